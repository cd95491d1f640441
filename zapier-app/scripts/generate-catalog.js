#!/usr/bin/env node
'use strict';
/**
 * Builds lib/catalog.json, the compact copy of the repository's event catalog that the app carries
 * inside its own folder (Zapier builds and pushes this folder alone, without ../schemas).
 *
 *   node scripts/generate-catalog.js            write lib/catalog.json from ../schemas
 *   node scripts/generate-catalog.js --check    exit 1 when lib/catalog.json differs from ../schemas
 *
 * Per entry it keeps what a trigger needs: key, type, kind, noun, label, description, importance,
 * group, the first example envelope as `sample` and labelled `outputFields` read from the schema.
 */
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const APP_DIR = path.resolve(__dirname, '..');
const DEFAULT_SCHEMAS_DIR = path.resolve(APP_DIR, '..', 'schemas');
const OUTPUT_FILE = path.join(APP_DIR, 'lib', 'catalog.json');

const KEY_PATTERN = /^[a-zA-Z]+[a-zA-Z0-9_]*$/; // Zapier's KeySchema
const MAX_DEPTH = 4; // nesting levels of `data` turned into output fields
const ACRONYMS = new Set(['id', 'aid', 'sid', 'url', 'ip', 'api', 'vat', 'pdf', 'sms', 'imsi', 'msisdn']);

/** Reads every JSON document under `dir` and indexes it by file URL and by its `$id`. */
function loadDocuments(dir) {
  const documents = new Map();
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name.endsWith('.json')) {
        const url = pathToFileURL(full).href;
        const document = JSON.parse(fs.readFileSync(full, 'utf8'));
        // Relative `$ref`s resolve against the document's `$id` when it has one.
        const id = new URL(typeof document.$id === 'string' ? document.$id : url, url);
        id.hash = '';
        const base = id.href;
        documents.set(url, { document, base });
        documents.set(base, { document, base });
      }
    }
  };
  walk(dir);
  return documents;
}

/** A JSON Schema node together with the URL its relative `$ref`s resolve against. */
class SchemaResolver {
  constructor(documents) {
    this.documents = documents;
  }

  /** Follows `$ref` chains until a node without one (sibling keywords of a `$ref` are merged). */
  deref(node, base, seen = new Set()) {
    if (!node || typeof node !== 'object' || typeof node.$ref !== 'string') {
      return { node, base };
    }
    const target = new URL(node.$ref, base);
    if (seen.has(target.href)) {
      throw new Error(`circular $ref ${target.href}`);
    }
    seen.add(target.href);
    const fragment = decodeURIComponent(target.hash.replace(/^#/, ''));
    target.hash = '';
    const entry = this.documents.get(target.href);
    if (!entry) {
      throw new Error(`unresolvable $ref "${node.$ref}" from ${base}`);
    }
    let resolved = entry.document;
    for (const part of fragment.split('/').slice(1)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (resolved === undefined || resolved === null || !(key in resolved)) {
        throw new Error(`unresolvable $ref "${node.$ref}" from ${base}`);
      }
      resolved = resolved[key];
    }
    const { $ref, ...siblings } = node;
    const inner = this.deref(resolved, entry.base, seen);
    return { node: { ...inner.node, ...siblings }, base: inner.base };
  }

  /** The properties of an object schema, merged over `$ref` and `allOf`, in declaration order. */
  properties(node, base) {
    const { node: schema, base: schemaBase } = this.deref(node, base);
    const merged = new Map();
    if (!schema || typeof schema !== 'object') {
      return merged;
    }
    for (const part of schema.allOf || []) {
      for (const [name, value] of this.properties(part, schemaBase)) {
        merged.set(name, value);
      }
    }
    for (const [name, value] of Object.entries(schema.properties || {})) {
      const previous = merged.get(name);
      // A property restated next to an allOf (e.g. a `const`) keeps the richer referenced shape.
      const restated = previous && Object.keys(value).every((k) => ['const', 'enum', 'description', 'title', 'examples'].includes(k));
      merged.set(name, restated ? { node: { ...previous.node, ...value }, base: previous.base } : { node: value, base: schemaBase });
    }
    return merged;
  }

  /** The schema with `$ref` followed and a nullable `anyOf`/`oneOf` reduced to its non-null branch. */
  shape(node, base) {
    let current = this.deref(node, base);
    for (let i = 0; i < 8; i += 1) {
      const branches = (current.node && (current.node.anyOf || current.node.oneOf)) || null;
      const nonNull = branches && branches.filter((b) => !(b && b.type === 'null'));
      if (!nonNull || nonNull.length !== 1) {
        break;
      }
      const { anyOf, oneOf, ...rest } = current.node;
      const inner = this.deref(nonNull[0], current.base);
      current = { node: { ...inner.node, ...rest }, base: inner.base };
    }
    return current;
  }
}

/** The JSON type of a schema node, ignoring "null". */
function jsonType(schema) {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const real = types.filter((t) => t && t !== 'null');
  if (real.length === 1) {
    return real[0];
  }
  if (schema.properties || schema.allOf) {
    return 'object';
  }
  if (schema.items) {
    return 'array';
  }
  return undefined;
}

/** Zapier output field type for a scalar schema, or undefined when Zapier's default (text) fits. */
function zapierType(schema) {
  const type = jsonType(schema);
  if (type === 'string' && schema.format === 'date-time') {
    return 'datetime';
  }
  return { integer: 'integer', number: 'number', boolean: 'boolean' }[type];
}

/** "modifiedUser" / "plan_activation" / "aid" → "Modified User" / "Plan Activation" / "AID". */
function humanize(name) {
  return String(name)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[_\s.-]+/)
    .filter(Boolean)
    .map((word) => (ACRONYMS.has(word.toLowerCase()) ? word.toUpperCase() : word[0].toUpperCase() + word.slice(1)))
    .join(' ');
}

/** Output fields for the properties of `node`, flattened the way Zapier flattens payloads. */
function fieldsOf(resolver, node, base, keyPrefix, labelPrefix, depth) {
  const fields = [];
  for (const [name, property] of resolver.properties(node, base)) {
    const { node: schema, base: schemaBase } = resolver.shape(property.node, property.base);
    const key = `${keyPrefix}${name}`;
    // A title beside the property's own `$ref` labels it; the referenced type's title ("Subscriber") would not.
    const label = joinLabel(labelPrefix, property.node.title || humanize(name));
    const type = jsonType(schema);
    if (type === 'object') {
      if (depth < MAX_DEPTH) {
        fields.push(...fieldsOf(resolver, schema, schemaBase, `${key}__`, label, depth + 1));
      }
    } else if (type === 'array') {
      const items = resolver.shape(schema.items || {}, schemaBase);
      if (jsonType(items.node) === 'object') {
        if (depth < MAX_DEPTH) {
          fields.push(...fieldsOf(resolver, items.node, items.base, `${key}[]`, label, depth + 1));
        }
      } else {
        fields.push(withType({ key, label, list: true }, zapierType(items.node)));
      }
    } else {
      fields.push(withType({ key, label }, zapierType(schema)));
    }
  }
  return fields;
}

/** "Step" + "Step Code" → "Step Code": a child label that repeats its parent's last word skips it. */
function joinLabel(prefix, label) {
  if (!prefix) {
    return label;
  }
  const last = prefix.split(' ').pop();
  return label.split(' ')[0].toLowerCase() === last.toLowerCase() ? `${prefix.slice(0, -last.length)}${label}`.trim() : `${prefix} ${label}`;
}

function withType(field, type) {
  return type ? { ...field, type } : field;
}

/** The envelope's own fields, then the payload's, labelled without a "Data" prefix. */
function outputFields(resolver, schema, base) {
  const envelope = resolver.properties(schema, base);
  const data = envelope.get('data');
  if (!data) {
    throw new Error('the schema has no properties.data');
  }
  return [
    { key: 'id', label: 'Event ID' },
    { key: 'type', label: 'Event Type' },
    { key: 'timestamp', label: 'Event Time', type: 'datetime' },
    ...fieldsOf(resolver, data.node, data.base, 'data__', '', 1),
  ];
}

/** Builds the compact catalog from a schemas folder (catalog.json plus one schema per entry). */
function buildCatalog(schemasDir = DEFAULT_SCHEMAS_DIR) {
  const catalogFile = path.join(schemasDir, 'catalog.json');
  if (!fs.existsSync(catalogFile)) {
    throw new Error(`no catalog at ${catalogFile}`);
  }
  const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
  const resolver = new SchemaResolver(loadDocuments(schemasDir));
  const groups = new Map((catalog.groups || []).map((g) => [g.id, g.title]));
  const keys = new Set();
  const entries = catalog.events.map((event) => {
    const where = `catalog entry ${event.type}`;
    if (!KEY_PATTERN.test(event.key || '')) {
      throw new Error(`${where}: key "${event.key}" is not a valid Zapier key`);
    }
    if (keys.has(event.key)) {
      throw new Error(`${where}: duplicate key "${event.key}"`);
    }
    keys.add(event.key);
    if (!groups.has(event.group)) {
      throw new Error(`${where}: unknown group "${event.group}"`);
    }
    const url = pathToFileURL(path.join(schemasDir, event.schema)).href;
    const entry = resolver.documents.get(url);
    if (!entry) {
      throw new Error(`${where}: schema file ${event.schema} not found`);
    }
    const { node: schema, base } = resolver.deref(entry.document, entry.base);
    const sample = (schema.examples || [])[0];
    if (!sample || typeof sample !== 'object' || !sample.id) {
      throw new Error(`${where}: the schema has no example envelope with an id`);
    }
    let fields;
    try {
      fields = outputFields(resolver, schema, base);
    } catch (error) {
      throw new Error(`${where}: ${error.message}`);
    }
    return {
      key: event.key,
      type: event.type,
      kind: event.kind,
      module: event.module,
      action: event.action,
      noun: event.noun,
      title: event.title,
      description: event.description,
      important: Boolean(event.important),
      firedByBillrun: event.fired_by_billrun !== false,
      group: event.group,
      groupTitle: groups.get(event.group),
      ...(event.expands_to ? { expandsTo: event.expands_to } : {}),
      ...(event.action_pattern ? { actionPattern: event.action_pattern } : {}),
      sample,
      outputFields: fields,
    };
  });
  return { version: catalog.version, groups: catalog.groups, events: entries };
}

/** One line per event property, per group and per output field: compact, yet diffs stay readable. */
function serialize(catalog) {
  const block = (items, indent) => `[\n${items.map((item) => `${indent}  ${JSON.stringify(item)}`).join(',\n')}\n${indent}]`;
  const event = (entry) => {
    const lines = Object.entries(entry).map(([name, value]) => {
      const text = name === 'outputFields' ? block(value, '    ') : JSON.stringify(value);
      return `    ${JSON.stringify(name)}: ${text}`;
    });
    return `{\n${lines.join(',\n')}\n  }`;
  };
  return `{\n  "version": ${JSON.stringify(catalog.version)},\n  "groups": ${block(catalog.groups, '  ')},\n`
    + `  "events": [\n${catalog.events.map((entry) => `  ${event(entry)}`).join(',\n')}\n  ]\n}\n`;
}

/** Null when `file` equals what the schemas make, else a message saying how to refresh it. */
function staleness(schemasDir = DEFAULT_SCHEMAS_DIR, file = OUTPUT_FILE) {
  const expected = serialize(buildCatalog(schemasDir));
  const actual = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (actual === expected) {
    return null;
  }
  return `${path.relative(process.cwd(), file) || file} is ${actual === null ? 'missing' : 'stale'} `
    + `versus ${schemasDir}: run \`npm run generate\` in zapier-app/ and commit the result`;
}

function main(argv) {
  const check = argv.includes('--check');
  if (check) {
    const problem = staleness();
    if (problem) {
      console.error(problem);
      return 1;
    }
    console.log('lib/catalog.json is up to date');
    return 0;
  }
  const catalog = buildCatalog();
  fs.mkdirSync(path.dirname(OUTPUT_FILE), { recursive: true });
  fs.writeFileSync(OUTPUT_FILE, serialize(catalog));
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT_FILE)} (${catalog.events.length} event types)`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`generate-catalog: ${error.message}`);
    process.exitCode = 1;
  }
}

module.exports = { buildCatalog, staleness, serialize };
