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

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.url.replace(/\\/+$/, "")}}',
			url: '/api/v1/me',
			method: 'GET',
		},
	};
}
