// Compiles every JSON Schema of schemas/ with ajv (draft 2020-12) in strict mode, as integrators
// in JavaScript do, and validates every sample (`examples`) against its own schema.
// Any warning ajv logs is a failure, and so is any schema that does not compile or sample that
// does not validate. Usage: node check-schemas.mjs [SCHEMAS_DIR] (default: the repository's schemas/).
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const CATALOG = "catalog.json"; // the list of event types, not a schema

function jsonFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return jsonFiles(path);
      return entry.name.endsWith(".json") ? [path] : [];
    })
    .sort();
}

/** Every problem of the schemas under `schemasDir`, with how many schemas and samples were checked. */
export function checkSchemas(schemasDir) {
  const logged = [];
  const record = (level) => (...args) => logged.push(`${level}: ${args.map(String).join(" ")}`);
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    logger: { log: record("log"), warn: record("warning"), error: record("error") },
  });
  addFormats(ajv);

  const documents = jsonFiles(schemasDir)
    .map((path) => ({ name: relative(schemasDir, path), schema: JSON.parse(readFileSync(path, "utf8")) }))
    .filter(({ name }) => name !== CATALOG);
  const failures = [];
  for (const { name, schema } of documents) {
    try {
      ajv.addSchema(schema);
    } catch (error) {
      failures.push(`${name}: not added: ${error.message}`);
    }
  }
  for (const line of logged.splice(0)) failures.push(`while adding the schemas: ${line}`);

  let samples = 0;
  for (const { name, schema } of documents) {
    let validate;
    try {
      validate = ajv.getSchema(schema.$id);
    } catch (error) {
      failures.push(`${name}: does not compile in strict mode: ${error.message}`);
      continue;
    } finally {
      for (const line of logged.splice(0)) failures.push(`${name}: ${line}`);
    }
    if (!validate) {
      failures.push(`${name}: does not compile (no $id?)`);
      continue;
    }
    (schema.examples ?? []).forEach((example, index) => {
      samples += 1;
      if (!validate(example)) failures.push(`${name}: examples[${index}] fails: ${ajv.errorsText(validate.errors)}`);
    });
  }
  return { failures, schemas: documents.length, samples };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const { failures, schemas, samples } = checkSchemas(resolve(process.argv[2] ?? join(here, "..", "..", "schemas")));
  if (failures.length > 0) {
    console.error(failures.join("\n"));
    console.error(`\n${failures.length} problem(s) in ${schemas} schemas`);
    process.exit(1);
  }
  console.log(`${schemas} schemas compile in ajv strict mode with no warning; ${samples} samples validate`);
}
