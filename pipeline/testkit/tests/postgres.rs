//! The PostgreSQL peer: a fresh cluster that takes SQL over TCP on its own port, keeps what it is
//! given while it runs, and two of them at once do not share anything.

use vigil_testkit::Postgres;

#[test]
fn a_fresh_postgres_takes_sql_on_its_own_port() {
    let pg = match Postgres::start() {
        Ok(pg) => pg,
        // Only where it truly cannot start (no server installed): say why. CI installs it.
        Err(why) if std::env::var_os("VIGIL_REQUIRE_POSTGRES").is_none() => {
            eprintln!("skipped: PostgreSQL cannot start here: {why}");
            return;
        }
        Err(why) => panic!("PostgreSQL cannot start: {why}"),
    };
    pg.psql("create table alerts (id text primary key, seq bigserial)")
        .unwrap();
    pg.psql("insert into alerts (id) values ('a'), ('b')")
        .unwrap();
    assert_eq!(
        pg.psql("select string_agg(id, ',' order by seq) from alerts")
            .unwrap(),
        "a,b"
    );
    assert!(
        pg.psql("insert into alerts (id) values ('a')").is_err(),
        "primary key"
    );
    let other = Postgres::start().unwrap();
    assert_ne!(other.port, pg.port);
    assert!(
        other.psql("select count(*) from alerts").is_err(),
        "its own cluster"
    );
    assert!(pg.url().starts_with("postgres://vigil@127.0.0.1:"));
}
