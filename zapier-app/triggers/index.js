'use strict';
/**
 * One REST-hook trigger per catalog entry, generated from lib/catalog.json (itself generated from
 * ../schemas): every concrete event type, every `<entity>.trackchanges` group and the custom
 * collection steps. Nothing here lists events by hand.
 */
const catalog = require('../lib/catalog.json');
const hooks = require('../lib/hooks');

/**
 * Zapier names new-item triggers "New <Noun>"; every other title is the catalog's own. An event
 * BillRun documents but never fires says so in its label, so nobody builds a Zap on it unawares.
 */
const labelOf = (entry) => {
  const label = entry.kind === 'event' && entry.action === 'create' ? `New ${entry.noun}` : entry.title;
  return entry.firedByBillrun ? label : `${label} (Never Fired by BillRun)`;
};

/** "A subscriber was changed." → "a subscriber was changed." (keeps names such as "BillRun"). */
const lowerFirst = (text) => (/^[A-Z][^A-Z\s]*(\s|$)/.test(text) ? text[0].toLowerCase() + text.slice(1) : text);

const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);

const withArticle = (noun) => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun.toLowerCase()}`;

/** "Triggers when ..." (Zapier's wording for trigger descriptions), then the BillRun event name. */
const descriptionOf = (entry) => {
  const description = sentence(entry.description.trim());
  let parts;
  if (!entry.firedByBillrun) {
    parts = ['Never triggers: BillRun documents this event but does not fire it.', description];
  } else if (entry.kind === 'group') {
    parts = [`Triggers when ${withArticle(entry.noun)} changes in any way.`, description];
  } else {
    parts = [`Triggers when ${lowerFirst(description)}`];
  }
  parts.push(`BillRun event: ${entry.type}.`);
  if (entry.kind === 'group' && entry.expandsTo) {
    parts.push(`Covers ${entry.expandsTo.join(', ')}.`);
  }
  return parts.join(' ');
};

/** A module whose actions are free-text step names (`collection.*`): an optional step name narrows it to one step. */
const stepField = () => ({
  key: 'step',
  label: 'Collection Step',
  type: 'string',
  required: false,
  helpText: 'The name of one collection step as BillRun names it (e.g. `Reminder (day 3)`). Leave empty to trigger on every collection event.',
});

const eventResolver = (entry) => {
  if (!entry.actionPattern) {
    return () => entry.type;
  }
  const pattern = new RegExp(entry.actionPattern, 'u');
  return (bundle) => {
    const step = String((bundle.inputData || {}).step || '').trim();
    if (!step) {
      return entry.type;
    }
    if (pattern && !pattern.test(step)) {
      throw new Error(`"${step}" is not a collection step name BillRun can send (expected ${entry.actionPattern}).`);
    }
    return `${entry.module}.${step}`;
  };
};

const triggerFor = (entry) => {
  const eventOf = eventResolver(entry);
  return {
    key: entry.key,
    noun: entry.noun,
    display: {
      label: labelOf(entry),
      description: descriptionOf(entry),
    },
    operation: {
      type: 'hook',
      ...(entry.actionPattern ? { inputFields: [stepField()] } : {}),
      performSubscribe: hooks.subscribe(eventOf),
      performUnsubscribe: hooks.unsubscribe,
      perform: hooks.perform,
      performList: hooks.list(eventOf),
      sample: entry.sample,
      outputFields: entry.outputFields,
    },
  };
};

/**
 * The Zap editor lists an app's triggers in the order the app defines them, and schema 15+ has no
 * `display.important` any more: the everyday triggers (catalog `important`) therefore come first,
 * then the rest by catalog group, each group in catalog order.
 */
const ordered = (entries, groups) => {
  const rank = (entry) => (entry.important ? -1 : groups.indexOf(entry.group));
  return entries.map((entry, index) => ({ entry, index })).sort((a, b) => rank(a.entry) - rank(b.entry) || a.index - b.index).map(({ entry }) => entry);
};

module.exports = Object.fromEntries(
  ordered(catalog.events, catalog.groups.map((group) => group.id)).map((entry) => [entry.key, triggerFor(entry)]),
);
