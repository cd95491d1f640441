import type {
	IAuthenticateGeneric,
	IAuthenticateRuleResponseCode,
	IAuthenticateRuleResponseSuccessBody,
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
	 * "Test" asks the connector who the key belongs to. n8n applies the status rules to an error
	 * answer and the body rules to a 2xx answer, so one list holds both kinds (n8n's type wants
	 * one kind per list).
	 */
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.url.replace(/\\/+$/, "")}}',
			url: '/api/v1/me',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'The connector refused the API key (HTTP 401). Check the API Key, or make a new one with "billrun-connector keys create --tenant NAME --label n8n".',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message:
						"Nothing answers GET /api/v1/me at this Connector URL (HTTP 404). Give the connector's base URL, without /api/v1.",
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
		] as Array<IAuthenticateRuleResponseCode | IAuthenticateRuleResponseSuccessBody> as IAuthenticateRuleResponseCode[],
	};
}
