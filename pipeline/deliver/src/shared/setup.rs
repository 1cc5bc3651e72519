//! Keeping a district's instances apart in the shared store. Left to themselves, instances share
//! one database role that owns the tables, so any of them — or anyone holding its password — can
//! rewrite another's presence row (and so where the others forward requests to), insert records
//! in another's name or acknowledge another's alerts. `vigil district setup`, run once by the
//! database's administrator, creates the tables as that administrator, turns on row-level
//! security and a group role `vigil_instance`; `vigil district add-instance NAME` then gives each
//! instance a login role of its own name in that group. Such a role:
//!
//! - reads every row of every table (the district page shows all instances' alerts);
//! - inserts records, acknowledgements and its presence row only in its own name — an
//!   acknowledgement only of an alert whose records it wrote;
//! - updates only its own presence row; deletes nothing, creates nothing, alters nothing.
//!
//! An instance connecting as a role other than its own name to a store set up so refuses to
//! start its writers ([`check_writer`]); one connecting to a store not set up so warns once that
//! nothing keeps the instances apart.

use super::{Connection, Database, SCHEMA_LOCK, TABLES, describe};
use std::sync::atomic::{AtomicBool, Ordering};

/// The group role every instance's role belongs to.
pub const GROUP: &str = "vigil_instance";

/// Grants and policies, all idempotent; run after [`TABLES`], as their owner.
const POLICIES: &str = "
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_instance') THEN
        CREATE ROLE vigil_instance NOLOGIN;
    END IF;
END $$;
REVOKE ALL ON vigil_records, vigil_acks, vigil_instances FROM PUBLIC, vigil_instance;
GRANT SELECT, INSERT ON vigil_records, vigil_acks TO vigil_instance;
GRANT SELECT, INSERT, UPDATE ON vigil_instances TO vigil_instance;
GRANT USAGE ON SEQUENCE vigil_records_seq_seq TO vigil_instance;
ALTER TABLE vigil_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE vigil_acks ENABLE ROW LEVEL SECURITY;
ALTER TABLE vigil_instances ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS vigil_read ON vigil_records;
CREATE POLICY vigil_read ON vigil_records FOR SELECT USING (true);
DROP POLICY IF EXISTS vigil_own ON vigil_records;
CREATE POLICY vigil_own ON vigil_records FOR INSERT WITH CHECK (instance = current_user);
DROP POLICY IF EXISTS vigil_read ON vigil_acks;
CREATE POLICY vigil_read ON vigil_acks FOR SELECT USING (true);
DROP POLICY IF EXISTS vigil_own ON vigil_acks;
CREATE POLICY vigil_own ON vigil_acks FOR INSERT WITH CHECK (
    instance = current_user AND EXISTS (
        SELECT 1 FROM vigil_records r
        WHERE r.alert_id = vigil_acks.alert_id AND r.instance = current_user));
DROP POLICY IF EXISTS vigil_read ON vigil_instances;
CREATE POLICY vigil_read ON vigil_instances FOR SELECT USING (true);
DROP POLICY IF EXISTS vigil_own ON vigil_instances;
CREATE POLICY vigil_own ON vigil_instances FOR INSERT WITH CHECK (instance = current_user);
DROP POLICY IF EXISTS vigil_own_update ON vigil_instances;
CREATE POLICY vigil_own_update ON vigil_instances FOR UPDATE
    USING (instance = current_user) WITH CHECK (instance = current_user);
";

/// Creates the tables (where missing), the group role, the grants and the row-level security
/// policies. Run as the tables' owner (or a superuser); safe to run again.
pub fn setup(db: &Database) -> Result<(), String> {
    let mut connection = Connection::new(db, "vigil-setup")?;
    connection.with(|c| {
        c.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {TABLES} {POLICIES} COMMIT;"
        ))
    })
}

/// Whether `name` can be an instance's role: the characters instance names are made of
/// (`vigil check` holds a config's names to them), so it is quoted safely.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Makes (or, when it exists, gives a new password to) the login role of instance `name`, a
/// member of [`GROUP`]; returns its password, random, shown once. Run after [`setup`].
pub fn add_instance(db: &Database, name: &str) -> Result<String, String> {
    if !valid_name(name) {
        return Err(format!(
            "instance name {name:?}: letters, digits, '_', '-' and '.', at most 63"
        ));
    }
    let password = random_password()?;
    let mut connection = Connection::new(db, "vigil-setup")?;
    // Neither part can be a bind parameter in role statements; the name is checked above and the
    // password is hex.
    let sql = format!(
        "DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_instance') THEN
                RAISE EXCEPTION 'no group role vigil_instance: run vigil district setup first';
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                ALTER ROLE \"{name}\" LOGIN PASSWORD '{password}';
            ELSE
                CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}';
            END IF;
        END $$;
        GRANT {GROUP} TO \"{name}\";"
    );
    connection.with(|c| c.batch_execute(&sql))?;
    Ok(password)
}

fn random_password() -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no randomness from the system".to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Said once per process: the store lets any instance write any row.
static WARNED_OPEN: AtomicBool = AtomicBool::new(false);

/// On a store set up by [`setup`], refuses a writer for `instance` connected as another role
/// (its rows would all be refused, one by one); on one that is not, warns once.
pub(crate) fn check_writer(client: &mut postgres::Client, instance: &str) -> Result<(), String> {
    let row = client
        .query_one(
            "SELECT c.relrowsecurity, current_user::text FROM pg_class c \
             WHERE c.oid = 'vigil_instances'::regclass",
            &[],
        )
        .map_err(|e| describe(&e))?;
    let (separated, role): (bool, String) = (row.get(0), row.get(1));
    if separated && role != instance {
        return Err(format!(
            "the shared store keeps instances apart (vigil district setup) and instance \
             \"{instance}\" connects as role \"{role}\": each instance connects as the role of \
             its own name (vigil district add-instance {instance})"
        ));
    }
    if !separated && !WARNED_OPEN.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            role = %role,
            "the shared store does not keep instances apart: any instance can rewrite another's \
             rows; run `vigil district setup` and give each instance its own role"
        );
    }
    Ok(())
}
