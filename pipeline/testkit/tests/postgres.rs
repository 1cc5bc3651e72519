//! The PostgreSQL peer: a fresh cluster that takes SQL over TCP on its own port, keeps what it is
//! given while it runs, and two of them at once do not share anything.

use vigil_testkit::Postgres;

#[test]
fn a_fresh_postgres_takes_sql_on_its_own_port() {
    // scripts/setup installs PostgreSQL: a test that cannot start it fails, it never skips.
    let pg = Postgres::start().unwrap_or_else(|why| panic!("PostgreSQL cannot start: {why}"));
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
