import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/** An API key of one tenant on a billrun-connector service. */
export class BillRunConnectorApi implements ICredentialType {
	name = 'billRunConnectorApi';

	displayName = 'BillRun Connector API';

	icon: Icon = { light: 'file:billrun.svg', dark: 'file:billrun.dark.svg' };

	documentationUrl =
		'https://github.com/billrun-connector/billrun-connector/tree/main/n8n-node#connect-it-to-a-connector';

	properties: INodeProperties[] = [
		{
			displayName: 'Connector URL',
			name: 'url',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://connector.example.com',
			description: 'Base URL of the billrun-connector service, without /api/v1',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A key made with "billrun-connector keys create --tenant NAME --label n8n"; it sees only its own tenant',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	/**
	 * "Test" asks the connector who the key belongs to. Every answer is read as a body (n8n 2.8
	 * does not apply status rules to a failed request), and the connector says what is wrong in
	 * `error.code`: the first rule that matches gives the message; an answer naming no tenant is not
	 * a connector's.
	 */
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.url.replace(/\\/+$/, "")}}',
			url: '/api/v1/me',
			method: 'GET',
			ignoreHttpStatusErrors: true,
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error.code',
					value: 'unauthorized',
					message:
						'The connector refused the API key (HTTP 401). Check the API Key, or make a new one with "billrun-connector keys create --tenant NAME --label n8n".',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error.code',
					value: 'not_found',
					message:
						"A connector answers at this URL, but not GET /api/v1/me (HTTP 404). Give the connector's base URL, without /api/v1.",
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error.code',
					value: 'unavailable',
					message: 'The connector is unavailable for the moment (HTTP 503). Try again later.',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'error.code',
					value: 'internal_error',
					message: 'The connector failed to answer (HTTP 500); its log says why.',
				},
			},
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'tenant.name',
					value: undefined,
					message:
						'This URL answers, but not as a billrun-connector: GET /api/v1/me named no tenant. Check the Connector URL.',
				},
			},
		],
	};
}
