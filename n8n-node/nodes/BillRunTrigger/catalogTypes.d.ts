/** The part of schemas/catalog.json the node carries (see scripts/generate-catalog.mjs). */
export interface CatalogGroup {
	id: string;
	title: string;
}

export interface CatalogEvent {
	/** `<module>.<action>`: the value sent to the connector and seen in deliveries. */
	type: string;
	key: string;
	module: string;
	group: string;
	/** `event`: one concrete type; `group`: `<entity>.trackchanges`; `module`: `<module>.*`; `all`: `*`. */
	kind: 'event' | 'group' | 'module' | 'all';
	/** The option name, entity first: "Subscriber: Updated" (see scripts/generate-catalog.mjs). */
	name: string;
	description: string;
	firedByBillrun: boolean;
	important: boolean;
	/** For `group`: the concrete types it stands for. */
	expandsTo?: string[];
	/** For a `module` whose actions are free text (collection steps): what a step name must match. */
	actionPattern?: string;
}

export interface Catalog {
	version: number;
	groups: CatalogGroup[];
	events: CatalogEvent[];
}
