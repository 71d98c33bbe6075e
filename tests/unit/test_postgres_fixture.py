"""The throwaway PostgreSQL fixture gives a real server that accepts SQL."""

import psycopg

from tests.fixtures.postgres import PostgresServer


def test_postgres_fixture_runs_real_server(postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    with psycopg.connect(postgres_server.url(name, driver="")) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (41), (1)")
        total = conn.execute("SELECT sum(x) FROM t").fetchone()
        version = conn.execute("SHOW server_version").fetchone()
    assert total is not None and total[0] == 42
    assert version is not None and int(str(version[0]).split(".")[0]) >= 13
