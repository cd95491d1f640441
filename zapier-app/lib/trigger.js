'use strict';
/** One REST-hook trigger: the shared lifecycle of lib/hooks.js around what makes a trigger its own. */
const hooks = require('./hooks');

/**
 * `eventsOf(bundle)` names the event types the trigger subscribes to and samples; `inputFields`,
 * `sample` and `outputFields` are Zapier's.
 */
const hookTrigger = ({ key, noun, label, description, inputFields, eventsOf, sample, outputFields }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',
    ...(inputFields ? { inputFields } : {}),
    performSubscribe: hooks.subscribe(eventsOf, () => `Zapier trigger "${label}"`),
    performUnsubscribe: hooks.unsubscribe,
    perform: hooks.perform,
    performList: hooks.list(eventsOf),
    sample,
    outputFields,
  },
});

module.exports = { hookTrigger };
