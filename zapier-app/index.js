'use strict';
/** The Zapier app: API-key authentication, instant triggers for everyday BillRun events and one for any event type. */
const authentication = require('./authentication');
const middleware = require('./middleware');
const triggers = require('./triggers');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: middleware.befores,
  afterResponse: middleware.afters,
  triggers,
  searches: {},
  creates: {},
};
