/**
 * A real OpenID provider (oidc-provider 8) for tests, run as its own process (it is ESM only):
 *
 *   OIDC_TEST_CONFIG='{"clientId":"sluice","clientSecret":"…","redirectUris":["http://127.0.0.1:4000/auth/oidc/callback"],
 *                      "accountsFile":"/tmp/accounts.json"}' node oidc-provider.mjs
 *
 * Listens on a free loopback port and prints one JSON line `{"issuer":"http://127.0.0.1:<port>"}`.
 * Its accounts are read from `accountsFile` at each sign-in (`{"alice": {"email": …, "groups": […]}}`),
 * so that a test can change a user's groups between two sign-ins. Interactions are the provider's
 * development ones: a login form (any password) and a consent form, with a cancel link.
 */
import fs from "node:fs";
import http from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? "{}");
const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      redirect_uris: config.redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // The groups claim in the ID token itself (otherwise only at /userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username"],
    email: ["email", "email_verified"],
    groups: ["groups"],
  },
  pkce: { required: () => true },
  cookies: { keys: ["sluice-test-provider-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const accounts = JSON.parse(fs.readFileSync(config.accountsFile, "utf8"));
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: account.sub ?? id, email_verified: true, ...account };
      },
    };
  },
});
// Its development warnings would mix with the ready line.
provider.on("server_error", (_ctx, error) => console.error(`server_error: ${error.message}`));
server.on("request", provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
