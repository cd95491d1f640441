'use strict';
/** The repository's catalog and the examples of each type's schema, read straight from ../schemas. */
const fs = require('fs');
const path = require('path');

const SCHEMAS_DIR = path.resolve(__dirname, '..', '..', '..', 'schemas');

const repositoryCatalog = () => JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, 'catalog.json'), 'utf8'));

/** Every example envelope of a catalog type's schema. */
const examplesOf = (catalog, type) => {
  const entry = catalog.events.find((event) => event.type === type);
  return JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, entry.schema), 'utf8')).examples;
};

module.exports = { repositoryCatalog, examplesOf };
