// The check itself: it passes the repository's schemas and catches what strict mode refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSchemas } from "./check-schemas.mjs";

const DRAFT = "https://json-schema.org/draft/2020-12/schema";
const BASE = "https://billrun-connector.invalid/schemas/";

function folder(files) {
  const dir = mkdtempSync(join(tmpdir(), "schemas-"));
  for (const [name, document] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), JSON.stringify(document));
  }
  return dir;
}

const schema = (name, body) => ({ $schema: DRAFT, $id: BASE + name, ...body });

test("the repository's schemas pass, samples included", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const { failures, schemas, samples } = checkSchemas(join(here, "..", "..", "schemas"));
  assert.deepEqual(failures, []);
  assert.ok(schemas > 100 && samples > 100, `${schemas} schemas, ${samples} samples`);
});

test("a sound folder passes; catalog.json is not read as a schema", () => {
  const dir = folder({
    "catalog.json": { version: 1, events: [] },
    "common/types.json": schema("common/types.json", { $defs: { n: { anyOf: [{ type: "integer" }, { type: "string" }] } } }),
    "events/a.json": schema("events/a.json", {
      type: "object",
      properties: { n: { $ref: "../common/types.json#/$defs/n" }, at: { type: "string", format: "date-time" } },
      examples: [{ n: 1, at: "2024-01-31T00:00:00Z" }, { n: "UNLIMITED" }],
    }),
  });
  assert.deepEqual(checkSchemas(dir), { failures: [], schemas: 2, samples: 2 });
});

test("union types, unknown keywords and formats, untyped keywords and bad samples fail", () => {
  const dir = folder({
    "union.json": schema("union.json", { type: ["integer", "string"] }),
    "keyword.json": schema("keyword.json", { type: "string", fired_by_billrun: true }),
    "format.json": schema("format.json", { type: "string", format: "billrun-date" }),
    "untyped.json": schema("untyped.json", { properties: { a: { type: "string" } } }),
    "sample.json": schema("sample.json", { type: "integer", examples: [1, "two"] }),
  });
  const { failures } = checkSchemas(dir);
  const about = (name) => failures.filter((line) => line.startsWith(`${name}:`));
  assert.match(about("union.json").join("\n"), /allowUnionTypes/);
  assert.match(about("keyword.json").join("\n"), /unknown keyword/);
  assert.match(about("format.json").join("\n"), /unknown format/);
  assert.match(about("untyped.json").join("\n"), /missing type "object"/);
  assert.match(about("sample.json").join("\n"), /examples\[1\] fails: data must be integer/);
  assert.equal(about("sample.json").length, 1);
});
