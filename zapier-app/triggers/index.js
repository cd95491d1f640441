'use strict';
/**
 * The app's triggers, keyed by trigger key: the dedicated everyday triggers, the general "New BillRun
 * Event" trigger and the hidden trigger behind its dropdown. The Zap editor lists the visible ones
 * alphabetically by label, whatever their order here.
 */
const everyday = require('./everyday');
const newEvent = require('./newEvent');
const eventTypeChoices = require('./eventTypeChoices');

module.exports = Object.fromEntries([...everyday, newEvent, eventTypeChoices].map((trigger) => [trigger.key, trigger]));
