import type { INodePropertyOptions } from 'n8n-workflow';

import { catalog as generatedCatalog } from './catalog.generated';
import type { Catalog, CatalogEvent } from './catalogTypes';

const KIND_ORDER: Record<CatalogEvent['kind'], number> = { all: 0, module: 1, group: 2, event: 3 };

function describe(event: CatalogEvent, groupTitle: string): string {
	const parts = [`${groupTitle}: ${event.description}`.trim()];
	if (!event.firedByBillrun) parts.push('BillRun documents this event but never fires it.');
	return parts.join(' ');
}

/**
 * The events multi-select: "every event" (`*`) first, then the everyday events (catalog
 * `important`), then every group in catalog order; inside a group each module keeps the catalog's
 * order, its "any event" (`<module>.*`) and "any change" entries before its single events.
 */
export function eventOptions(source: Catalog = generatedCatalog): INodePropertyOptions[] {
	const groupRank = new Map(source.groups.map((group, index) => [group.id, index]));
	const groupTitle = new Map(source.groups.map((group) => [group.id, group.title]));
	const moduleRank = new Map<string, number>();
	for (const event of source.events) {
		if (!moduleRank.has(event.module)) moduleRank.set(event.module, moduleRank.size);
	}
	const byGroup = (a: CatalogEvent, b: CatalogEvent) =>
		(groupRank.get(a.group) ?? 0) - (groupRank.get(b.group) ?? 0);
	// Array.prototype.sort is stable, so ties keep the catalog's order.
	const all = source.events.filter((event) => event.kind === 'all');
	const important = source.events.filter((event) => event.important && event.kind !== 'all').sort(byGroup);
	const rest = source.events
		.filter((event) => !event.important && event.kind !== 'all')
		.sort(
			(a, b) =>
				byGroup(a, b) ||
				(moduleRank.get(a.module) ?? 0) - (moduleRank.get(b.module) ?? 0) ||
				KIND_ORDER[a.kind] - KIND_ORDER[b.kind],
		);
	return [...all, ...important, ...rest].map((event) => ({
		name: event.title,
		value: event.type,
		description: describe(event, groupTitle.get(event.group) ?? event.group),
	}));
}

/** The module wildcards whose actions are free-text names (`collection.*`): they take step names. */
export function stepModuleTypes(source: Catalog = generatedCatalog): string[] {
	return source.events.filter((event) => event.actionPattern !== undefined).map((event) => event.type);
}

export interface Subscription {
	/** What to subscribe to, sorted and without duplicates. */
	events: string[];
	/** Step names that the module's `action_pattern` refuses. */
	invalidSteps: string[];
}

/** Splits a comma- or newline-separated list of step names. */
export function parseStepNames(text: string): string[] {
	return text
		.split(/[,\n]/)
		.map((name) => name.trim())
		.filter((name) => name !== '');
}

/**
 * The event list to subscribe to: the selected types, with a selected step module (`collection.*`)
 * replaced by one concrete type per named step when step names are given.
 */
export function resolveSubscription(
	selected: string[],
	stepNames: string[],
	source: Catalog = generatedCatalog,
): Subscription {
	const families = new Map(
		source.events.filter((event) => event.actionPattern !== undefined).map((event) => [event.type, event]),
	);
	const events = new Set<string>();
	const invalidSteps = new Set<string>();
	for (const type of selected) {
		const family = families.get(type);
		if (!family || stepNames.length === 0) {
			events.add(type);
			continue;
		}
		const pattern = new RegExp(family.actionPattern ?? '', 'u');
		for (const step of stepNames) {
			if (pattern.test(step)) events.add(`${family.module}.${step}`);
			else invalidSteps.add(step);
		}
	}
	return { events: [...events].sort(), invalidSteps: [...invalidSteps] };
}

/** Whether a delivered (always concrete) event type is covered by a subscription's event list. */
export function isCovered(
	type: string,
	subscribed: string[],
	source: Catalog = generatedCatalog,
): boolean {
	if (subscribed.includes(type)) return true;
	return source.events.some((entry) => {
		if (!subscribed.includes(entry.type)) return false;
		if (entry.kind === 'all') return true;
		if (entry.kind === 'group') return (entry.expandsTo ?? []).includes(type);
		return entry.kind === 'module' && type.startsWith(`${entry.module}.`);
	});
}
