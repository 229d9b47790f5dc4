// postgres.js through Warden: it prepares every statement under a name and pipelines the queries a program starts
// together on one connection, without waiting for each answer. Connection settings come from PG* variables, the
// schema from DRV_SCHEMA. Prints one line per step; DriversNodePostgresTest checks them and the database afterwards.
const postgres = require('postgres');

const S = process.env.DRV_SCHEMA;
const step = (name, value) => console.log(`${name}: ${value}`);
const settled = (results, show) => results.map((r) => (r.status === 'fulfilled' ? show(r.value) : r.reason.code)).join(',');

async function main() {
  // One connection, so that queries started together are pipelined on it.
  const sql = postgres({ max: 1, connect_timeout: 10, onnotice: () => {} });
  const items = sql(`${S}.items`);
  // Its package.json is not among its exports: read it next to the CommonJS build.
  const pkg = require('node:path').join(require.resolve('postgres'), '../../../package.json');
  step('version', JSON.parse(require('node:fs').readFileSync(pkg, 'utf8')).version);

  step('params', (await sql`SELECT name FROM ${items} WHERE id = ${1}`)[0].name);

  const ids = Array.from({ length: 20 }, (_, i) => (i % 2) + 1);
  const names = await Promise.all(ids.map((id) => sql`SELECT name FROM ${items} WHERE id = ${id}`));
  step('pipelined', names.map((r) => r[0].name).join(','));

  // Denials among pipelined reads: each fails alone, the reads around them run.
  const mixed = await Promise.allSettled([
    sql`SELECT 1 AS n`, sql`DELETE FROM ${sql(S + '.secret')}`, sql`SELECT 2 AS n`,
    sql`UPDATE ${sql(S + '.secret')} SET v = ${'stolen'}`, sql`SELECT 3 AS n`]);
  step('pipelined-denials', settled(mixed, (rows) => rows[0].n));

  await sql.begin(async (tx) => {
    await tx`INSERT INTO ${items} (id, name) VALUES (${20}, ${'committed'})`;
  });
  try {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO ${items} (id, name) VALUES (${21}, ${'rolled back'})`;
      throw new Error('roll it back');
    });
  } catch (e) {
    if (e.message !== 'roll it back') throw e;
  }
  step('transaction', (await sql`SELECT string_agg(name, ',') AS names FROM ${items} WHERE id IN (20, 21)`)[0].names);

  const copy = await sql`COPY ${items} (id, name) FROM STDIN`.writable();
  await new Promise((resolve, reject) => {
    copy.on('finish', resolve);
    copy.on('error', reject);
    for (let i = 100; i < 110; i++) copy.write(`${i}\tcopied ${i}\n`);
    copy.end();
  });
  step('copy-in', (await sql`SELECT count(*)::int AS n FROM ${items} WHERE id BETWEEN 100 AND 109`)[0].n);

  let fetched = 0;
  await sql`SELECT id FROM ${items} WHERE id >= ${100}`.cursor(3, async (rows) => { fetched += rows.length; });
  step('cursor', fetched);

  // A held insert with a read pipelined behind it: the read waits for the decision, then sees the row.
  const held = await Promise.allSettled([
    sql`INSERT INTO ${sql(S + '.held')} (id, v) VALUES (${2}, ${'approved by a person'})`,
    sql`SELECT count(*)::int AS n FROM ${sql(S + '.held')} WHERE id = 2`]);
  step('held', settled(held, (r) => (r.command === 'INSERT' ? r.count : r[0].n)));

  step('after-denial', (await sql`SELECT v FROM ${sql(S + '.secret')}`)[0].v);
  await sql.end();
  step('done', 'ok');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
