// A development OpenID provider for the served app: panva's oidc-provider (OpenID Certified)
// with one registered client (the dashboard) and the test users of users.json. For tests and a
// first look (`make up SERVE_AUTH=oidc`); never part of a production file.
//
// Environment:
//   OIDC_ISSUER              issuer URL, the same for the browser and the app, e.g.
//                            http://oidc-dev.localhost:9400 (browsers resolve *.localhost to
//                            this machine; the app resolves it on the compose network)
//   OIDC_PORT                port to listen on (default: the issuer's port)
//   OIDC_CLIENT_ID           the app's client id (default app)
//   OIDC_CLIENT_SECRET_FILE  file holding the client secret (a compose secret; never in the image)
//   OIDC_REDIRECT_URIS       the dashboard's redirect URIs (…/oauth2callback), comma-separated; they
//                            are also its post-logout redirect URIs (Streamlit sends that one)
//   OIDC_USERS_FILE          the test users (default users.json beside this file)
// Signing and cookie keys are made at every start: a restart signs everyone out of the provider
// (not out of the dashboard, whose cookie the dashboard signs itself).
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider, { interactionPolicy } from 'oidc-provider';

const fail = (message) => {
  console.error(`oidc-dev: ${message}`);
  process.exit(64);
};

const required = (name) => process.env[name] || fail(`${name} is not set`);

const issuer = new URL(required('OIDC_ISSUER'));
const port = Number(process.env.OIDC_PORT || issuer.port || 80);
const clientSecret = readFileSync(required('OIDC_CLIENT_SECRET_FILE'), 'utf8').trim();
if (clientSecret.length < 32) fail('the client secret is shorter than 32 characters');
const redirectUris = required('OIDC_REDIRECT_URIS').split(',').map((uri) => uri.trim()).filter(Boolean);
const usersFile = process.env.OIDC_USERS_FILE || new URL('./users.json', import.meta.url);
const users = JSON.parse(readFileSync(usersFile, 'utf8'));

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const sameText = (a, b) => {
  const left = Buffer.from(String(a));
  const right = Buffer.from(String(b));
  return left.length === right.length && timingSafeEqual(left, right);
};

function page(title, body) {
  // Plain HTML, no outside fonts or scripts beyond the one inline submit of the sign-out form.
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}.note{color:#666;font-size:.9rem}
.error{color:#b00020}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

// Streamlit asks for prompt=select_account (Google's account chooser): accept it as a prompt that
// the sign-in form below resolves, as Google and Entra ID do.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer.href.replace(/\/$/, ''), {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID || 'app',
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [privateKey.export({ format: 'jwk' })] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The e-mail and name in the ID token itself: that is what Streamlit reads into st.user.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    const user = users.find((candidate) => candidate.email === id);
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: user.email, email: user.email, email_verified: user.email_verified, name: user.name };
      },
    };
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Sign out at once (the dashboard has already dropped its own cookie): submit the form.
      async logoutSource(ctx, form) {
        ctx.body = page('Signing out', `${form}<input type="hidden" form="op.logoutForm" name="logout" value="yes">
<noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
<script>document.getElementById('op.logoutForm').submit()</script>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the development provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', `<p class="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description || '')}</p>`);
  },
});

function loginForm(uid, client, error = '') {
  const list = users.map((user) => `<li>${escapeHtml(user.email)}</li>`).join('');
  return page('Sign in', `<p>to <b>${escapeHtml(client)}</b> with a test user of this development provider.</p>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="email">E-mail</label><input id="email" name="email" type="email" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>
<p class="note">Test users: </p><ul class="note">${list}</ul>`);
}

async function readForm(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > 16384) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// The sign-in form of an interaction, and its answer: every prompt (select_account, login,
// consent) is resolved by one successful sign-in; the grant covers what the client asked for.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return next();
  ctx.set('Cache-Control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const clientId = details.params.client_id;
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, clientId);
    return undefined;
  }
  if (ctx.method !== 'POST' || !match[2]) ctx.throw(405);
  const form = await readForm(ctx);
  const user = users.find((candidate) => sameText(candidate.email, form.get('email') || ''));
  if (!user || !sameText(user.password, form.get('password') || '')) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, clientId, 'Unknown e-mail or wrong password.');
    return undefined;
  }
  const grant = new provider.Grant({ accountId: user.email, clientId });
  grant.addOIDCScope(String(details.params.scope || 'openid'));
  const grantId = await grant.save();
  const result = { select_account: {}, login: { accountId: user.email }, consent: { grantId } };
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
  return undefined;
});

const server = provider.listen(port, () => {
  console.log(`oidc-dev: issuer ${provider.issuer} listening on port ${port}; client ${redirectUris.join(' ')}`);
});
// Stop at once: close() alone would wait for browsers' idle keep-alive connections.
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
