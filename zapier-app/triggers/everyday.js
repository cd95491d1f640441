'use strict';
/**
 * The dedicated triggers for the events Zap users reach for ("New Subscriber", "New Payment", ...),
 * one per entry of the catalog's `everyday` list: label, description, the types each covers, its
 * sample and labelled output fields all come from lib/catalog.json.
 */
const catalog = require('../lib/catalog.json');
const { hookTrigger } = require('../lib/trigger');

/** A trigger on a module whose actions are free-text step names (`collection.*`) may name one step. */
const stepField = {
  key: 'step',
  label: 'Collection Step',
  type: 'string',
  required: false,
  helpText: 'The name of one collection step, exactly as it is named in BillRun (for example `Reminder (day 3)`). '
    + 'Leave it empty to trigger on every collection step, including customers entering and leaving collection.',
};

/** The types a trigger subscribes to: its catalog types, or the one step the user named. */
const eventsResolver = (entry) => {
  if (!entry.actionPattern) {
    return () => entry.events;
  }
  const pattern = new RegExp(entry.actionPattern, 'u');
  const module = entry.events[0].split('.')[0];
  return (bundle) => {
    const step = String((bundle.inputData || {}).step || '').trim();
    if (!step) {
      return entry.events;
    }
    if (!pattern.test(step)) {
      throw new Error(`"${step}" is not a collection step name BillRun can send: use the step's name, 1 to 255 characters without line breaks.`);
    }
    return [`${module}.${step}`];
  };
};

const everydayTrigger = (entry) => hookTrigger({
  key: entry.key,
  noun: entry.noun,
  label: entry.label,
  description: entry.description,
  inputFields: entry.actionPattern ? [stepField] : undefined,
  eventsOf: eventsResolver(entry),
  sample: entry.sample,
  outputFields: entry.outputFields,
});

module.exports = catalog.everyday.map(everydayTrigger);
