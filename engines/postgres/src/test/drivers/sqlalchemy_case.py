"""SQLAlchemy over psycopg2 through Warden: the stack of LangChain's SQLDatabase and many Python agents. psycopg2
speaks the simple protocol (parameters interpolated on the client); SQLAlchemy adds its own queries on connect and
reads the catalog to reflect tables. Connection settings come from PG* variables, the schema from DRV_SCHEMA. Prints
one line per step; DriversSqlalchemyTest checks them and the database afterwards."""
import os

import psycopg2
import sqlalchemy as sa
from sqlalchemy import exc

S = os.environ["DRV_SCHEMA"]


def step(name, value):
    print(f"{name}: {value}", flush=True)


# An empty URL: libpq takes host, port, database, user and password from the PG* variables.
engine = sa.create_engine("postgresql+psycopg2://", pool_size=1, max_overflow=0, future=True)
step("version", f"{sa.__version__} {psycopg2.__version__.split()[0]}")

# What an agent asks first: which tables there are, and their columns (SQLAlchemy reads pg_catalog).
inspector = sa.inspect(engine)
step("tables", ",".join(sorted(inspector.get_table_names(schema=S))))
step("columns", ",".join(c["name"] for c in inspector.get_columns("items", schema=S)))
step("primary-key", ",".join(inspector.get_pk_constraint("items", schema=S)["constrained_columns"]))
step("enums", ",".join(e["name"] for e in inspector.get_enums(schema=S)))
items = sa.Table("items", sa.MetaData(), autoload_with=engine, schema=S)

with engine.connect() as conn:
    step("select", conn.execute(sa.select(items.c.name).where(items.c.id == 1)).scalar_one())
    step("text", conn.execute(sa.text(f"SELECT name FROM {S}.items WHERE id = :id"), {"id": 2}).scalar_one())

# engine.begin(): BEGIN, the statements, COMMIT; an exception rolls it back.
with engine.begin() as conn:
    conn.execute(items.insert(), [{"id": i, "name": f"orm {i}"} for i in range(10, 15)])
try:
    with engine.begin() as conn:
        conn.execute(items.insert().values(id=20, name="rolled back"))
        raise RuntimeError("roll it back")
except RuntimeError:
    pass
with engine.connect() as conn:
    # A server-side cursor (psycopg2's named cursor: DECLARE, then FETCH FORWARD in batches).
    result = conn.execution_options(stream_results=True, max_row_buffer=3).execute(
        sa.text(f"SELECT id FROM {S}.items ORDER BY id"))
    step("stream", ",".join(str(r.id) for r in result))

with engine.connect() as conn:
    step("transaction", conn.execute(sa.text(f"SELECT count(*) FROM {S}.items WHERE id BETWEEN 10 AND 20")).scalar_one())
    try:
        conn.execute(sa.text(f"DELETE FROM {S}.secret"))
        step("denied", "NOT DENIED")
    except exc.ProgrammingError as e:
        step("denied", f"{type(e.orig).__name__} {e.orig.pgcode}")
    conn.rollback()
    step("after-denial", conn.execute(sa.text(f"SELECT v FROM {S}.secret")).scalar_one())

    conn.execute(sa.text(f"INSERT INTO {S}.held (id, v) VALUES (:id, :v)"), {"id": 1, "v": "approved by a person"})
    conn.commit()
    step("held", conn.execute(sa.text(f"SELECT v FROM {S}.held")).scalar_one())

step("pool", f"{engine.pool.checkedin()} connection back in the pool")
engine.dispose()
step("done", "ok")
