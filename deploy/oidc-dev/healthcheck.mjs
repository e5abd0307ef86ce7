// The image's health check: the provider answers its discovery document (on its own port).
import { get } from 'node:http';

const port = Number(process.env.OIDC_PORT || new URL(process.env.OIDC_ISSUER).port || 80);
const request = get({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', timeout: 4000 }, (response) => {
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timeout')));
request.on('error', () => process.exit(1));
