// node-postgres through Warden: what an agent written in TypeScript/JavaScript does. Connection settings come from
// PG* variables, the schema from DRV_SCHEMA. Prints one line per step; DriversNodePostgresTest checks the lines and
// the database afterwards. Any unexpected error ends the script with a stack trace and a non-zero exit.
const { Client } = require('pg');
const Cursor = require('pg-cursor');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { Readable, Writable } = require('node:stream');

const S = process.env.DRV_SCHEMA;
const step = (name, value) => console.log(`${name}: ${value}`);

async function denied(client, query) {
  try {
    await client.query(query);
    return 'NOT DENIED';
  } catch (e) {
    return `${e.code} ${e.message}`;
  }
}

async function main() {
  const client = new Client({ connectionTimeoutMillis: 10000 });
  await client.connect();
  step('version', require('pg/package.json').version);

  // Parameters: the extended protocol with the unnamed statement.
  let r = await client.query(`SELECT name FROM ${S}.items WHERE id = $1 AND name <> $2`, [1, 'x']);
  step('params', r.rows[0].name);

  // A named prepared statement: parsed once, then only bound and executed.
  const byId = (id) => ({ name: 'item-by-id', text: `SELECT name FROM ${S}.items WHERE id = $1`, values: [id] });
  const names = [];
  for (const id of [2, 1, 2]) names.push((await client.query(byId(id))).rows[0].name);
  step('prepared', names.join(','));
  for (const id of [10, 11, 12]) {
    await client.query({ name: 'insert-item', text: `INSERT INTO ${S}.items (id, name) VALUES ($1, $2)`, values: [id, `named ${id}`] });
  }
  step('prepared-insert', (await client.query(`SELECT count(*)::int AS n FROM ${S}.items WHERE id BETWEEN 10 AND 12`)).rows[0].n);

  await client.query('BEGIN');
  await client.query(`INSERT INTO ${S}.items (id, name) VALUES ($1, $2)`, [20, 'committed']);
  await client.query('COMMIT');
  await client.query('BEGIN');
  await client.query(`INSERT INTO ${S}.items (id, name) VALUES ($1, $2)`, [21, 'rolled back']);
  await client.query('ROLLBACK');
  r = await client.query(`SELECT string_agg(name, ',') AS names FROM ${S}.items WHERE id IN (20, 21)`);
  step('transaction', r.rows[0].names);

  // COPY both ways through pg-copy-streams (simple-protocol COPY).
  const lines = [];
  for (let i = 100; i < 130; i++) lines.push(`${i}\tcopied ${i}\n`);
  const copyIn = client.query(copyFrom(`COPY ${S}.items (id, name) FROM STDIN`));
  await pipeline(Readable.from(lines), copyIn);
  step('copy-in', copyIn.rowCount);
  let copied = '';
  const copyOut = client.query(copyTo(`COPY (SELECT id FROM ${S}.items WHERE id >= 100 ORDER BY id) TO STDOUT`));
  await pipeline(copyOut, new Writable({ write(chunk, _enc, done) { copied += chunk; done(); } }));
  const ids = copied.trim().split('\n');
  step('copy-out', `${ids.length} ${ids[0]}..${ids[ids.length - 1]}`);

  // A cursor: one portal executed a few rows at a time (PortalSuspended between batches).
  const cursor = client.query(new Cursor(`SELECT id FROM ${S}.items WHERE id >= $1 ORDER BY id`, [100]));
  const seen = [];
  for (let batch = await cursor.read(8); batch.length > 0; batch = await cursor.read(8)) seen.push(...batch.map((row) => row.id));
  await cursor.close();
  step('cursor', `${seen.length} ${seen[0]}..${seen[seen.length - 1]}`);

  step('denied', await denied(client, { text: `DELETE FROM ${S}.secret WHERE id = $1`, values: [1] }));
  // The same denied statement under a name, twice: the second time must be denied again, not run or lost.
  const steal = { name: 'steal', text: `UPDATE ${S}.secret SET v = $1`, values: ['stolen'] };
  step('denied-named', await denied(client, steal));
  step('denied-named-again', await denied(client, steal));
  step('after-denial', (await client.query(`SELECT v FROM ${S}.secret`)).rows[0].v);

  r = await client.query(`INSERT INTO ${S}.held (id, v) VALUES ($1, $2)`, [1, 'approved by a person']);
  step('held', r.rowCount);

  await client.end();
  step('done', 'ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
