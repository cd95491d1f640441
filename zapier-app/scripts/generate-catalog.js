#!/usr/bin/env node
'use strict';
/**
 * Builds lib/catalog.json, the compact copy of the repository's event catalog that the app carries
 * inside its own folder (Zapier builds and pushes this folder alone, without ../schemas).
 *
 *   node scripts/generate-catalog.js            write lib/catalog.json from ../schemas
 *   node scripts/generate-catalog.js --check    exit 1 when lib/catalog.json differs from ../schemas
 *
 * It keeps what the triggers need:
 * - `everyday`: the catalog's everyday triggers (label, noun, description, the types they cover),
 *   each with a sample and labelled output fields for the types it covers;
 * - `types`: every type BillRun fires (concrete types, `<entity>.trackchanges`, `<module>.*`, `*`),
 *   with its output fields, for the general trigger once a user has picked one type;
 * - `envelopeFields` and `everyEventSample` for the general trigger otherwise.
 * Output fields come from each type's JSON Schema and also cover every key of its examples, keyed
 * the way Zapier flattens payloads (`data__after__firstname`, list items as `parent[]child`).
 */
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const APP_DIR = path.resolve(__dirname, '..');
const DEFAULT_SCHEMAS_DIR = path.resolve(APP_DIR, '..', 'schemas');
const OUTPUT_FILE = path.join(APP_DIR, 'lib', 'catalog.json');

const KEY_PATTERN = /^[a-zA-Z]+[a-zA-Z0-9_]*$/; // Zapier's KeySchema
const MAX_DEPTH = 4; // nesting levels of `data` whose declared (not sampled) properties become output fields
const ACRONYMS = new Set(['id', 'url', 'ip', 'api', 'vat', 'pdf', 'sms', 'imsi', 'msisdn']);
// BillRun's abbreviated field names, in the words a billing person uses.
const WORDS = {
  aid: 'Account ID',
  aids: 'Account IDs',
  sid: 'Subscriber ID',
  sids: 'Subscriber IDs',
  txid: 'Transaction ID',
  firstname: 'First Name',
  lastname: 'Last Name',
  usaget: 'Usage Type',
  usagev: 'Usage Volume',
  urt: 'Usage Time',
  aprice: 'Price',
  arate: 'Rate',
  pp: 'Prepaid',
  billrun: 'Billing Cycle',
};
const ENVELOPE_FIELDS = [
  { key: 'id', label: 'Event ID' },
  { key: 'type', label: 'Event Type' },
  { key: 'timestamp', label: 'Event Time', type: 'datetime' },
];
const ENVELOPE_KEYS = ['id', 'type', 'timestamp', 'data'];

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

  /** The schema of an undeclared member `name` of an object schema: patternProperties, then additionalProperties. */
  member(node, base, name) {
    const { node: schema, base: schemaBase } = this.deref(node, base);
    if (!schema || typeof schema !== 'object') {
      return { node: {}, base };
    }
    for (const [pattern, value] of Object.entries(schema.patternProperties || {})) {
      if (new RegExp(pattern, 'u').test(name)) {
        return { node: value, base: schemaBase };
      }
    }
    const extra = schema.additionalProperties;
    return { node: extra && typeof extra === 'object' ? extra : {}, base: schemaBase };
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

const isPlainObject = (value) => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/** The JSON type of a schema node, ignoring "null". */
function jsonType(schema) {
  if (!schema || typeof schema !== 'object') {
    return undefined;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const real = types.filter((t) => t && t !== 'null');
  if (real.length === 1) {
    return real[0];
  }
  if (schema.properties || schema.allOf || schema.additionalProperties || schema.patternProperties) {
    return 'object';
  }
  if (schema.items) {
    return 'array';
  }
  return undefined;
}

/** Zapier output field type for a scalar schema (or, without one, its sampled values); undefined for text. */
function zapierType(schema, values) {
  const type = jsonType(schema);
  if (type === 'string' && schema.format === 'date-time') {
    return 'datetime';
  }
  if (type) {
    return { integer: 'integer', number: 'number', boolean: 'boolean' }[type];
  }
  const seen = values.filter((value) => value !== null && value !== undefined);
  if (seen.length && seen.every((value) => typeof value === 'boolean')) {
    return 'boolean';
  }
  if (seen.length && seen.every((value) => typeof value === 'number')) {
    return 'number';
  }
  return undefined;
}

/** "modifiedUser" / "plan_activation" / "aid" / "usagev" → "Modified User" / "Plan Activation" / "Account ID" / "Usage Volume". */
function humanize(name) {
  const word = (text) => {
    const lower = text.toLowerCase();
    if (WORDS[lower]) {
      return WORDS[lower];
    }
    return ACRONYMS.has(lower) ? text.toUpperCase() : text[0].toUpperCase() + text.slice(1);
  };
  return String(name)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[_\s.-]+/)
    .filter(Boolean)
    .map(word)
    .join(' ');
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

/**
 * Output fields for an object schema and the sampled objects at the same place: every declared
 * property (down to MAX_DEPTH) and every key the samples hold (at any depth, e.g. the entries of a
 * map keyed by plan name), flattened the way Zapier flattens payloads. `labels` are the parent's
 * label and its alternative (named after the referenced types' titles, used where two labels clash).
 */
function fieldsOf(resolver, node, base, samples, keyPrefix, labels, depth) {
  const declared = resolver.properties(node, base);
  const names = [...declared.keys()];
  for (const sample of samples) {
    names.push(...Object.keys(sample).filter((name) => !names.includes(name)));
  }
  const fields = [];
  for (const name of names) {
    const values = samples.filter((sample) => name in sample).map((sample) => sample[name]);
    if (!values.length && depth > MAX_DEPTH) {
      continue;
    }
    const own = declared.get(name);
    const { node: schema, base: schemaBase } = own ? resolver.shape(own.node, own.base) : resolver.shape(...Object.values(resolver.member(node, base, name)));
    const key = `${keyPrefix}${name}`;
    // A title beside the property's own `$ref` labels it; the referenced type's title ("Subscriber") would not.
    const label = joinLabel(labels.label, (own && own.node.title) || humanize(name));
    const alternative = joinLabel(labels.alternative, (own && own.node.title) || (schema && schema.title ? humanize(schema.title) : humanize(name)));
    const field = (extra, fieldType) => withType({ key, label, ...extra, alternative }, fieldType);
    const inner = { label, alternative };
    const type = jsonType(schema);
    const objects = values.filter(isPlainObject);
    const lists = values.filter(Array.isArray);
    const scalars = values.filter((value) => !isPlainObject(value) && !Array.isArray(value));
    const shaped = objectBranch(resolver, schema, schemaBase);
    if (!type && shaped) { // "an object or a string" (anyOf): the text as it is, and the object's fields
      fields.push(field({}, zapierType({}, scalars)));
      fields.push(...fieldsOf(resolver, shaped.node, shaped.base, objects, `${key}__`, inner, depth + 1));
    } else if (type === 'object' || objects.length) {
      if (scalars.length) { // e.g. `before: null` on a create
        fields.push(field({}, zapierType({}, scalars)));
      }
      fields.push(...fieldsOf(resolver, schema, schemaBase, objects, `${key}__`, inner, depth + 1));
    } else if (type === 'array' || lists.length) {
      const items = resolver.shape(schema.items || {}, schemaBase);
      const members = lists.flat();
      if (jsonType(items.node) === 'object' || members.some(isPlainObject)) {
        fields.push(...fieldsOf(resolver, items.node, items.base, members.filter(isPlainObject), `${key}[]`, inner, depth + 1));
      } else {
        fields.push(field({ list: true }, zapierType(items.node, members)));
      }
    } else {
      fields.push(field({}, zapierType(schema, values)));
    }
  }
  return fields;
}

/** The object branch of an `anyOf`/`oneOf` whose other branches are scalars, e.g. an object or its text. */
function objectBranch(resolver, schema, base) {
  const branches = schema && (schema.anyOf || schema.oneOf);
  if (!branches) {
    return undefined;
  }
  const shapes = branches.map((branch) => resolver.shape(branch, base));
  const objects = shapes.filter((shape) => jsonType(shape.node) === 'object');
  const scalar = (shape) => ['string', 'integer', 'number', 'boolean', 'null'].includes(jsonType(shape.node));
  return objects.length === 1 && shapes.every((shape) => objects.includes(shape) || scalar(shape)) ? objects[0] : undefined;
}

/** "data__event__type" → "Event Type", or with `whole` "Data Event Type": a field named by its path. */
const pathLabel = (key, whole) => (whole ? key : key.replace(/^data__/, '')).split(/__|\[\]/).filter(Boolean).map(humanize).join(' ');

/**
 * Field lists as one: each key once, labels unique. A field whose label an earlier one has (the
 * envelope's come first) takes its alternative label (e.g. "Billing Event Type" beside the
 * envelope's "Event Type"), else its path, else its whole path, else its key beside the label.
 */
function mergeFields(lists) {
  const byKey = new Map();
  for (const field of lists.flat()) {
    if (!byKey.has(field.key)) {
      byKey.set(field.key, field);
    }
  }
  const taken = new Set();
  return [...byKey.values()].map((field) => {
    const candidates = [field.label, field.alternative, pathLabel(field.key, false), pathLabel(field.key, true), `${field.label} (${field.key})`];
    const label = candidates.find((candidate) => candidate && !taken.has(candidate));
    taken.add(label);
    return label === field.label ? field : { ...field, label };
  });
}

/** The fields as the app declares them (without the alternative labels kept for merging). */
const published = (fields) => fields.map(({ alternative, ...field }) => field);

/** Labels must be unique within a trigger: the Zap editor shows them side by side. */
function assertUniqueLabels(fields, where) {
  const seen = new Map();
  for (const field of fields) {
    if (seen.has(field.label)) {
      throw new Error(`${where}: output fields ${seen.get(field.label)} and ${field.key} share the label "${field.label}"`);
    }
    seen.set(field.label, field.key);
  }
}

/** The output fields of one catalog entry's schema: the envelope's, then the payload's, covering its examples. */
function schemaFields(resolver, schema, base, examples, where) {
  const data = resolver.properties(schema, base).get('data');
  if (!data) {
    throw new Error(`${where}: the schema has no properties.data`);
  }
  for (const example of examples) {
    const extra = Object.keys(example).filter((key) => !ENVELOPE_KEYS.includes(key));
    if (extra.length) {
      throw new Error(`${where}: an example has keys outside the envelope: ${extra.join(', ')}`);
    }
  }
  const samples = examples.map((example) => example.data).filter(isPlainObject);
  return mergeFields([ENVELOPE_FIELDS, fieldsOf(resolver, data.node, data.base, samples, 'data__', { label: '', alternative: '' }, 1)]);
}

/** Each catalog entry with its examples and schema fields, by type. */
function readEntries(catalog, resolver, schemasDir) {
  const entries = new Map();
  for (const event of catalog.events) {
    const where = `catalog entry ${event.type}`;
    if (!KEY_PATTERN.test(event.key || '')) {
      throw new Error(`${where}: key "${event.key}" is not a valid Zapier key`);
    }
    const url = pathToFileURL(path.join(schemasDir, event.schema)).href;
    const document = resolver.documents.get(url);
    if (!document) {
      throw new Error(`${where}: schema file ${event.schema} not found`);
    }
    const { node: schema, base } = resolver.deref(document.document, document.base);
    const examples = schema.examples || [];
    if (!examples.length || !examples.every((example) => isPlainObject(example) && example.id)) {
      throw new Error(`${where}: the schema needs example envelopes, each with an id`);
    }
    entries.set(event.type, { event, examples, fields: schemaFields(resolver, schema, base, examples, where) });
  }
  return entries;
}

/**
 * The fields a type offers once chosen alone: its own schema's; for `<module>.*`, whose schema
 * leaves the payload open, those of the module's types; for `*`, the envelope's.
 */
function typeFields(entry, entries) {
  const { event } = entry;
  if (event.kind === 'all') {
    return ENVELOPE_FIELDS;
  }
  if (event.kind === 'module') {
    const members = [...entries.values()].filter((other) => other.event.module === event.module && other.event.kind === 'event' && other.event.fired_by_billrun !== false);
    return mergeFields([...members.map((member) => member.fields), entry.fields]);
  }
  return entry.fields;
}

/** Builds the compact catalog from a schemas folder (catalog.json plus one schema per entry). */
function buildCatalog(schemasDir = DEFAULT_SCHEMAS_DIR) {
  const catalogFile = path.join(schemasDir, 'catalog.json');
  if (!fs.existsSync(catalogFile)) {
    throw new Error(`no catalog at ${catalogFile}`);
  }
  const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
  const resolver = new SchemaResolver(loadDocuments(schemasDir));
  const entries = readEntries(catalog, resolver, schemasDir);
  const fired = [...entries.values()].filter(({ event }) => event.fired_by_billrun !== false);
  const types = fired.map((entry) => {
    const { event } = entry;
    const outputFields = typeFields(entry, entries);
    assertUniqueLabels(outputFields, `catalog entry ${event.type}`);
    return { type: event.type, outputFields: published(outputFields) };
  });
  const keys = new Set();
  const everyday = (catalog.everyday || []).map((trigger) => {
    const where = `everyday trigger ${trigger.key}`;
    if (!KEY_PATTERN.test(trigger.key || '') || keys.has(trigger.key)) {
      throw new Error(`${where}: the key is not a valid, unique Zapier key`);
    }
    keys.add(trigger.key);
    const covered = trigger.events.map((type) => {
      const entry = entries.get(type);
      if (!entry || entry.event.fired_by_billrun === false) {
        throw new Error(`${where}: ${type} is not a type BillRun fires`);
      }
      return entry;
    });
    const patterns = covered.map(({ event }) => event.action_pattern).filter(Boolean);
    if (patterns.length && covered.length > 1) {
      throw new Error(`${where}: a trigger that takes a step name covers exactly one type`);
    }
    const outputFields = mergeFields(covered.map((entry) => typeFields(entry, entries)));
    assertUniqueLabels(outputFields, where);
    return {
      key: trigger.key,
      label: trigger.label,
      noun: trigger.noun,
      description: trigger.description,
      events: trigger.events,
      ...(patterns.length ? { actionPattern: patterns[0] } : {}),
      sample: covered[0].examples[0],
      outputFields: published(outputFields),
    };
  });
  const everything = entries.get('*');
  return {
    version: catalog.version,
    envelopeFields: ENVELOPE_FIELDS,
    everyEventSample: (everything || fired[0]).examples[0],
    everyday,
    types,
  };
}

/** One line per field, per sample and per scalar property: compact, yet diffs stay readable. */
function serialize(catalog) {
  const block = (items, indent) => `[\n${items.map((item) => `${indent}  ${JSON.stringify(item)}`).join(',\n')}\n${indent}]`;
  const object = (entry, indent) => {
    const lines = Object.entries(entry).map(([name, value]) => {
      const text = name === 'outputFields' ? block(value, `${indent}  `) : JSON.stringify(value);
      return `${indent}  ${JSON.stringify(name)}: ${text}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  };
  const list = (items) => `[\n${items.map((item) => `    ${object(item, '    ')}`).join(',\n')}\n  ]`;
  return `{\n  "version": ${JSON.stringify(catalog.version)},\n`
    + `  "envelopeFields": ${block(catalog.envelopeFields, '  ')},\n`
    + `  "everyEventSample": ${JSON.stringify(catalog.everyEventSample)},\n`
    + `  "everyday": ${list(catalog.everyday)},\n`
    + `  "types": ${list(catalog.types)}\n}\n`;
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
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT_FILE)} (${catalog.everyday.length} everyday triggers, ${catalog.types.length} event types)`);
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

module.exports = { buildCatalog, staleness, serialize, humanize };
