#!/usr/bin/env node
'use strict';
// Drives the platform's own TypeScript client (@flashbacktech/flashbackclient) against a
// server and checks every answer against the client's types (shapes.js) and API.md.
//
//   node tests/conformance/run.js --base-url http://127.0.0.1:8787 --fixtures fixtures.json [--strict]
//   node tests/conformance/run.js --list        # the case ids, one JSON line, no server needed
//
// Environment instead of flags: FLASHBACK_BASE_URL, FLASHBACK_FIXTURES, FLASHBACK_STRICT=1.
// FLASHBACK_CLIENT_DIR overrides where the client lives (default: <project root>/../shared/
// flashbackclient). Output: a {"plan": [...]} line, one JSON line per case
// ({case, call, what, as, ok, status, request, problems}) and a {"summary": ...} line.
// Exit status 0 when every case holds, 1 when some fail, 2 on bad usage.
//
// The fixtures file names the seeded world (see test_conformance.py):
//   workspace {id, name}; users.{owner, admin, read, write, none, spare} {id?, email, name?,
//   token, password?}; provider {endpoint, otherOriginEndpoint, secret, rotatedSecret,
//   badSecret, models}. `owner` is the org OWNER (admin@localhost), `admin` the ADMIN of the
//   workspace (an org USER, signs in with its password), `read`/`write` its READ/WRITE
//   members, `none` and `spare` belong to no workspace (`spare` is moved around).

const fs = require('fs');
const path = require('path');
const { check } = require('./check');
const S = require('./shapes');

// ---------------------------------------------------------------------------------------
// Options and the client
// ---------------------------------------------------------------------------------------

function parseArgs(argv) {
  const options = {
    baseUrl: process.env.FLASHBACK_BASE_URL || '',
    fixtures: process.env.FLASHBACK_FIXTURES || '',
    strict: ['1', 'true', 'yes'].includes((process.env.FLASHBACK_STRICT || '').toLowerCase()),
    list: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--base-url') options.baseUrl = argv[++i];
    else if (arg === '--fixtures') options.fixtures = argv[++i];
    else if (arg === '--strict') options.strict = true;
    else if (arg === '--list') options.list = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

function clientDir() {
  const projectRoot = path.resolve(__dirname, '..', '..');
  return process.env.FLASHBACK_CLIENT_DIR || path.resolve(projectRoot, '..', 'shared', 'flashbackclient');
}

// Every request goes through the global fetch; wrapping it lets the runner report the exact
// status and content type of each answer (the client resolves to the body alone).
const realFetch = globalThis.fetch;
let lastExchange = null;
globalThis.fetch = async (url, options = {}) => {
  const exchange = { method: options.method || 'GET', url: String(url), status: null, contentType: null };
  lastExchange = exchange;
  const response = await realFetch(url, options);
  exchange.status = response.status;
  exchange.contentType = response.headers.get('content-type');
  return response;
};

// ---------------------------------------------------------------------------------------
// Helpers for cases
// ---------------------------------------------------------------------------------------

const GATEWAY_USER = 'conformance-user-1';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const list = (value) => (Array.isArray(value) ? value : []);
const ids = (items) => list(items).map((item) => item && item.id);
const show = (value) => JSON.stringify(value);
/** `id` is among `items` (by `.id`, or by `key`). */
const includes = (items, id, key = 'id') => list(items).some((item) => item && item[key] === id);
/** A masked key shows at most its last 4 characters: null, or "****abcd" for "...abcd". */
function masked(key, original) {
  if (key === null) return true;
  if (typeof key !== 'string' || key === original) return false;
  const shown = key.replace(/^[*•]+/, '');
  return shown.length <= 4 && original.endsWith(shown);
}
/** An AI link of a repository names its configuration as aiLlmId or aiLlm.id. */
const linkedIds = (repo) => list(repo && repo.aiLlms).map((link) => link.aiLlmId || (link.aiLlm && link.aiLlm.id));
const member = (workspace, userId) => list(workspace && workspace.users).find((u) => u.userId === userId);
const eventRows = (body) => list(body && body.events);
/** A one-value filter, or none when the value is missing (the client would send an empty one). */
const present = (value) => (typeof value === 'string' && value !== '' ? [value] : undefined);

async function gatewayChat(x, secret, content) {
  const response = await globalThis.fetch(`${x.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
    body: JSON.stringify({
      model: x.f.provider.models[0], user: GATEWAY_USER, messages: [{ role: 'user', content }],
    }),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status, data });
  return data;
}

const ALERT_PROMPT = 'Please keep the zebra-launch-code out of the weekly report';
const BLOCK_PROMPT = 'Customer asked about blocked-ticket-4242 again';

// ---------------------------------------------------------------------------------------
// The cases, in scenario order
// ---------------------------------------------------------------------------------------
//
// id        "<ApiClient method>.<variant>" (unique); the method is the call
// what      what the case shows
// as        who calls: owner | admin | read | write | none | spare | anon (no token)
// needs     values of the scenario that earlier cases provide (x.<name>)
// run       (client, x) => the call, exactly as a platform user writes it
// status    expected HTTP status (or a list of acceptable ones); default 200
// shape     the type the answer must have (for that status)
// success   the `success` a 2xx answer must carry when its type has one; default true
// verify    (body, x) => checks beyond the type: each `true` or a problem string
// keep      (body, x) => remember ids for later cases (when the status is the expected one)
// until     (body, x) => bool: repeat the call (up to ~3 s) until true (data written in the background)
// secretOk  this answer may carry the secret it creates
// loose     not a platform client type (the OpenAI-style gateway): never checked strictly

const CASES = [
  // -- Sign-in and identity --------------------------------------------------------------
  {
    id: 'userLogin.ok', as: 'anon', what: 'the workspace admin signs in with email and password',
    run: (c, x) => c.userLogin({
      email: x.f.users.admin.email,
      password: x.f.users.admin.password,
      deviceInfo: { userAgent: 'conformance/1.0', os: 'Linux', browser: 'node', deviceType: 'DESKTOP' },
    }),
    shape: S.LoginResponse,
    verify: (b, x) => [
      typeof b.accessToken === 'string' && b.accessToken.length > 0 || 'accessToken: missing on a successful sign-in',
      typeof b.refreshToken === 'string' && b.refreshToken.length > 0 || 'refreshToken: missing on a successful sign-in',
      b.expiresAt > Date.now() || `expiresAt: ${b.expiresAt} is not a future Unix time in ms`,
      b.user && b.user.id === x.f.users.admin.id || `user.id: expected ${x.f.users.admin.id}, got ${show(b.user && b.user.id)}`,
      b.user && b.user.email === x.f.users.admin.email || `user.email: expected ${x.f.users.admin.email}`,
      b.user && b.user.orgRole === 0 || `user.orgRole: a user added without --org-role is USER (0), got ${show(b.user && b.user.orgRole)}`,
    ],
    keep: (b, x) => {
      if (b.accessToken) x.signIn(b.accessToken);
      x.refreshToken = b.refreshToken;
      if (b.user && b.user.orgId) x.orgId = b.user.orgId;
    },
  },
  {
    id: 'userLogin.wrong-password', as: 'anon', what: 'a wrong password is refused with the sign-in error shape',
    run: (c, x) => c.userLogin({ email: x.f.users.admin.email, password: 'not-the-password' }),
    status: [200, 400, 401], shape: S.SignInError, success: false,
  },
  {
    id: 'userLogin.unknown-email', as: 'anon', what: 'an unknown email is refused like a wrong password',
    run: (c, x) => c.userLogin({ email: `nobody-${x.tag}@example.test`, password: 'whatever-1234' }),
    status: [200, 400, 401], shape: S.SignInError, success: false,
  },
  {
    id: 'getUserProfile.owner', as: 'owner', what: 'the first user of the data dir is OWNER (255)',
    run: (c) => c.getUserProfile(),
    shape: S.UserProfileResponse,
    verify: (b, x) => [
      b.data !== undefined || 'data: missing',
      b.data && b.data.orgRole === 255 || `data.orgRole: expected 255 (OWNER), got ${show(b.data && b.data.orgRole)}`,
      b.data && b.data.email === x.f.users.owner.email || `data.email: expected ${x.f.users.owner.email}`,
      b.data && typeof b.data.orgId === 'string' || 'data.orgId: the local admin belongs to the org',
    ],
    keep: (b, x) => {
      if (b.data) {
        x.ownerId = b.data.id;
        x.orgId = x.orgId || b.data.orgId || undefined;
      }
    },
  },
  {
    id: 'getUserProfile.member', as: 'admin', what: 'a user sees its own profile (USER, lastName "")',
    run: (c) => c.getUserProfile(),
    shape: S.UserProfileResponse,
    verify: (b, x) => [
      b.data && b.data.id === x.f.users.admin.id || `data.id: expected ${x.f.users.admin.id}, got ${show(b.data && b.data.id)}`,
      b.data && b.data.email === x.f.users.admin.email || 'data.email: not the signed-in user',
      b.data && b.data.name === x.f.users.admin.name || `data.name: expected ${show(x.f.users.admin.name)}, got ${show(b.data && b.data.name)}`,
      b.data && b.data.lastName === '' || `data.lastName: expected "" when unknown, got ${show(b.data && b.data.lastName)}`,
      b.data && b.data.orgRole === 0 || `data.orgRole: expected 0 (USER), got ${show(b.data && b.data.orgRole)}`,
      !x.orgId || (b.data && b.data.orgId === x.orgId) || `data.orgId: expected ${x.orgId}`,
    ],
    keep: (b, x) => { x.orgId = x.orgId || (b.data && b.data.orgId) || undefined; },
  },
  {
    id: 'getUserProfile.no-token', as: 'anon', what: 'no token: 401 with the user error shape',
    run: (c) => c.getUserProfile(),
    status: 401, shape: S.UserError,
  },
  {
    id: 'getUserById.member', as: 'owner', what: 'the OWNER looks up a member by id',
    run: (c, x) => c.getUserById(x.f.users.read.id),
    shape: S.UserRoleResponse,
    verify: (b, x) => [
      b.data && b.data.userId === x.f.users.read.id || `data.userId: expected ${x.f.users.read.id}`,
      b.data && b.data.orgRole === 0 || `data.orgRole: expected 0 (USER), got ${show(b.data && b.data.orgRole)}`,
    ],
  },
  {
    id: 'getUserById.unknown', as: 'owner', what: 'an unknown user id is a 404',
    run: (c) => c.getUserById(UNKNOWN_ID),
    status: 404, shape: S.UserError,
  },

  // -- Workspaces and members --------------------------------------------------------------
  {
    id: 'getWorkspaces.member', as: 'admin', what: 'a member lists its workspaces with their users',
    run: (c) => c.getWorkspaces(),
    shape: S.GetWorkspacesResponse,
    verify: (b, x) => {
      const ws = list(b.workspaces).find((w) => w.id === x.ws);
      if (!ws) return [`workspaces: the seeded workspace ${x.ws} is missing`];
      return [
        ws.name === x.f.workspace.name || `workspace.name: expected ${show(x.f.workspace.name)}, got ${show(ws.name)}`,
        (member(ws, x.f.users.admin.id) || {}).role === 'ADMIN' || 'users: the admin is not listed as ADMIN',
        (member(ws, x.f.users.read.id) || {}).role === 'READ' || 'users: the READ member is not listed as READ',
        (member(ws, x.f.users.write.id) || {}).role === 'WRITE' || 'users: the WRITE member is not listed as WRITE',
        ((member(ws, x.f.users.read.id) || {}).user || {}).email === x.f.users.read.email || 'users[].user.email: not the member\'s email',
        !x.orgId || ws.orgId === x.orgId || `orgId: expected ${x.orgId}`,
      ];
    },
  },
  {
    id: 'getWorkspaces.outsider', as: 'none', what: 'a user in no workspace sees none of them',
    run: (c) => c.getWorkspaces(),
    shape: S.GetWorkspacesResponse,
    verify: (b, x) => [!includes(b.workspaces, x.ws) || 'workspaces: lists a workspace the caller does not belong to'],
  },
  {
    id: 'getWorkspace.member', as: 'read', what: 'a READ member reads the workspace',
    run: (c, x) => c.getWorkspace(x.ws),
    shape: S.GetWorkspaceResponse,
    verify: (b, x) => [
      b.workspace && b.workspace.id === x.ws || 'workspace.id: not the workspace asked for',
      list(b.workspace && b.workspace.users).length >= 3 || 'workspace.users: expected the three seeded members',
    ],
  },
  {
    id: 'getWorkspace.outsider', as: 'none', what: 'a workspace the caller does not belong to is a 404',
    run: (c, x) => c.getWorkspace(x.ws),
    status: 404, shape: S.WorkspaceError,
  },
  {
    id: 'getWorkspace.unknown', as: 'owner', what: 'an unknown workspace is a 404',
    run: (c) => c.getWorkspace(UNKNOWN_ID),
    status: 404, shape: S.WorkspaceError,
  },
  {
    id: 'createWorkspace.owner', as: 'owner', what: 'the OWNER creates a workspace',
    run: (c, x) => c.createWorkspace({ name: `${x.tag}-second` }),
    shape: S.CreateWorkspaceResponse,
    verify: (b, x) => [
      b.workspace && b.workspace.name === `${x.tag}-second` || 'workspace.name: not the name sent',
      !x.orgId || (b.workspace && b.workspace.orgId === x.orgId) || `workspace.orgId: expected ${x.orgId}`,
    ],
    keep: (b, x) => { x.ws2 = b.workspace && b.workspace.id; },
  },
  {
    id: 'createWorkspace.org-user', as: 'read', what: 'an org USER may not create workspaces (403)',
    run: (c, x) => c.createWorkspace({ name: `${x.tag}-not-allowed` }),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'createWorkspace.empty-name', as: 'owner', what: 'an empty name is a 400',
    run: (c) => c.createWorkspace({ name: '' }),
    status: 400, shape: S.WorkspaceError,
  },
  {
    id: 'updateWorkspace.owner', as: 'owner', needs: ['ws2'], what: 'the OWNER renames a workspace',
    run: (c, x) => c.updateWorkspace(x.ws2, { name: `${x.tag}-second-renamed` }),
    shape: S.UpdateWorkspaceResponse,
    verify: (b, x) => [
      b.workspace && b.workspace.id === x.ws2 || 'workspace.id: not the workspace renamed',
      b.workspace && b.workspace.name === `${x.tag}-second-renamed` || 'workspace.name: not the new name',
    ],
  },
  {
    id: 'updateWorkspace.org-user', as: 'admin', what: 'a workspace ADMIN who is an org USER may not rename it (403)',
    run: (c, x) => c.updateWorkspace(x.ws, { name: `${x.tag}-hijacked` }),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'addUserToWorkspace.workspace-admin', as: 'admin', what: 'a workspace ADMIN adds a member',
    run: (c, x) => c.addUserToWorkspace(x.ws, { userId: x.f.users.spare.id, role: 'READ' }),
    shape: S.AddUserToWorkspaceResponse,
  },
  {
    id: 'addUserToWorkspace.read-member', as: 'read', what: 'a READ member may not add members (403)',
    run: (c, x) => c.addUserToWorkspace(x.ws, { userId: x.f.users.none.id, role: 'READ' }),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'addUserToWorkspace.bad-role', as: 'admin', what: 'a role outside READ/WRITE/ADMIN is a 400',
    run: (c, x) => c.addUserToWorkspace(x.ws, { userId: x.f.users.none.id, role: 'OWNER' }),
    status: 400, shape: S.WorkspaceError,
  },
  {
    id: 'addUserToWorkspace.unknown-user', as: 'admin', what: 'an unknown user id is a 404',
    run: (c, x) => c.addUserToWorkspace(x.ws, { userId: UNKNOWN_ID, role: 'READ' }),
    status: 404, shape: S.WorkspaceError,
  },
  {
    id: 'getWorkspace.after-add', as: 'admin', what: 'the added member is listed with its role',
    run: (c, x) => c.getWorkspace(x.ws),
    shape: S.GetWorkspaceResponse,
    verify: (b, x) => [(member(b.workspace, x.f.users.spare.id) || {}).role === 'READ' || 'users: the added member is not listed as READ'],
  },
  {
    id: 'updateWorkspaceUserRole.workspace-admin', as: 'admin', what: 'a workspace ADMIN changes a member\'s role',
    run: (c, x) => c.updateWorkspaceUserRole(x.ws, x.f.users.spare.id, { role: 'WRITE' }),
    shape: S.UpdateWorkspaceUserRoleResponse,
  },
  {
    id: 'getWorkspace.after-role-change', as: 'admin', what: 'the member is listed with its new role',
    run: (c, x) => c.getWorkspace(x.ws),
    shape: S.GetWorkspaceResponse,
    verify: (b, x) => [(member(b.workspace, x.f.users.spare.id) || {}).role === 'WRITE' || 'users: the member is not listed as WRITE'],
  },
  {
    id: 'updateWorkspaceUserRole.write-member', as: 'write', what: 'a WRITE member may not change roles (403)',
    run: (c, x) => c.updateWorkspaceUserRole(x.ws, x.f.users.spare.id, { role: 'ADMIN' }),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'removeUserFromWorkspace.read-member', as: 'read', what: 'a READ member may not remove members (403)',
    run: (c, x) => c.removeUserFromWorkspace(x.ws, x.f.users.write.id),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'removeUserFromWorkspace.workspace-admin', as: 'admin', what: 'a workspace ADMIN removes a member',
    run: (c, x) => c.removeUserFromWorkspace(x.ws, x.f.users.spare.id),
    shape: S.RemoveUserFromWorkspaceResponse,
  },
  {
    id: 'getWorkspace.after-remove', as: 'admin', what: 'the removed member is gone',
    run: (c, x) => c.getWorkspace(x.ws),
    shape: S.GetWorkspaceResponse,
    verify: (b, x) => [!member(b.workspace, x.f.users.spare.id) || 'users: the removed member is still listed'],
  },
  {
    id: 'addUserToWorkspace.owner', as: 'owner', needs: ['ws2'], what: 'the OWNER adds a member to any workspace',
    run: (c, x) => c.addUserToWorkspace(x.ws2, { userId: x.f.users.spare.id, role: 'WRITE' }),
    shape: S.AddUserToWorkspaceResponse,
  },

  // -- AI LLM configurations ---------------------------------------------------------------
  {
    id: 'createAiLlm.admin', as: 'admin', what: 'create an OpenAI configuration with a key and a secret',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-openai`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      key: x.llmKey, secret: x.f.provider.secret, workspaceId: x.ws,
    }),
    shape: S.CreateAiLlmResponse,
    keep: (b, x) => { x.llm = b.aiLlmId; },
  },
  {
    id: 'createAiLlm.bad-credentials', as: 'admin', what: 'create a configuration whose secret the provider refuses',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-bad-secret`, aiType: 'OTHER', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.badSecret, workspaceId: x.ws,
    }),
    shape: S.CreateAiLlmResponse,
    keep: (b, x) => { x.llmBad = b.aiLlmId; },
  },
  {
    id: 'createAiLlm.write-member', as: 'write', what: 'a WRITE member creates a configuration',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-by-writer`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.secret, workspaceId: x.ws,
    }),
    shape: S.CreateAiLlmResponse,
    keep: (b, x) => { x.llmW = b.aiLlmId; },
  },
  {
    id: 'createAiLlm.read-member', as: 'read', what: 'a READ member may not create (403)',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-by-reader`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.secret, workspaceId: x.ws,
    }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'createAiLlm.outsider', as: 'none', what: 'a non-member may not create in the workspace (403 or 404)',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-by-outsider`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.secret, workspaceId: x.ws,
    }),
    status: [403, 404], shape: S.GenericError,
  },
  {
    id: 'createAiLlm.duplicate-name', as: 'admin', needs: ['llm'], what: 'a name already used in the workspace is a 400',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-openai`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.secret, workspaceId: x.ws,
    }),
    status: 400, shape: S.GenericError,
  },
  {
    id: 'createAiLlm.invalid-endpoint', as: 'admin', what: 'an endpoint that is not a URL is a 400',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-no-url`, aiType: 'OTHER', endpoint: 'not a url', secret: x.f.provider.secret,
      workspaceId: x.ws,
    }),
    status: 400, shape: S.GenericError,
  },
  {
    id: 'createAiLlm.second-workspace', as: 'spare', needs: ['ws2'], what: 'a WRITE member of the second workspace creates there',
    run: (c, x) => c.createAiLlm({
      name: `${x.tag}-in-second`, aiType: 'OPENAI', endpoint: x.f.provider.endpoint,
      secret: x.f.provider.secret, workspaceId: x.ws2,
    }),
    shape: S.CreateAiLlmResponse,
    keep: (b, x) => { x.llm2 = b.aiLlmId; },
  },
  {
    id: 'getAiLlms.workspace', as: 'admin', needs: ['llm'], what: 'list one workspace: key masked, no secret, apiKeyId absent',
    run: (c, x) => c.getAiLlms(x.ws),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => {
      const llm = list(b.aiLlms).find((l) => l.id === x.llm);
      if (!llm) return [`aiLlms: the configuration ${x.llm} is missing`];
      return [
        list(b.aiLlms).every((l) => l.workspaceId === x.ws) || 'aiLlms: a configuration of another workspace is listed',
        !x.llmBad || includes(b.aiLlms, x.llmBad) || 'aiLlms: the unvalidated configuration is missing (list shows all)',
        !x.llmW || includes(b.aiLlms, x.llmW) || 'aiLlms: the WRITE member\'s configuration is missing',
        llm.name === `${x.tag}-openai` || `name: expected ${x.tag}-openai, got ${show(llm.name)}`,
        llm.aiType === 'OPENAI' || `aiType: expected OPENAI, got ${show(llm.aiType)}`,
        llm.endpoint === x.f.provider.endpoint || `endpoint: expected ${x.f.provider.endpoint}, got ${show(llm.endpoint)}`,
        masked(llm.key, x.llmKey) || `key: expected null or masked (at most the last 4 characters), got ${show(llm.key)}`,
        !('apiKeyId' in llm) || `apiKeyId: must be absent without a stored key ("optional means absent"), got ${show(llm.apiKeyId)}`,
        llm.userId === x.f.users.admin.id || `userId: expected the creator ${x.f.users.admin.id}, got ${show(llm.userId)}`,
        !x.orgId || llm.orgId === x.orgId || `orgId: expected ${x.orgId}`,
        list(b.aiLlms).every((l) => !('secret' in l)) || 'secret: a configuration carries a secret field',
      ];
    },
    keep: (b, x) => { x.llmObject = list(b.aiLlms).find((l) => l.id === x.llm); },
  },
  {
    id: 'getAiLlms.all', as: 'admin', needs: ['llm'], what: 'without workspaceId: every accessible workspace, nothing else',
    run: (c) => c.getAiLlms(),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [
      includes(b.aiLlms, x.llm) || 'aiLlms: the configuration of the caller\'s workspace is missing',
      !x.llm2 || !includes(b.aiLlms, x.llm2) || 'aiLlms: lists a configuration of a workspace the caller is not in',
    ],
  },
  {
    id: 'getAiLlms.outsider', as: 'none', needs: ['llm'], what: 'a non-member sees none of the workspace\'s configurations',
    run: (c) => c.getAiLlms(),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [!includes(b.aiLlms, x.llm) || 'aiLlms: lists a configuration of a workspace the caller is not in'],
  },
  {
    id: 'getAiLlms.no-token', as: 'anon', what: 'no token: 401',
    run: (c) => c.getAiLlms(),
    status: 401, shape: S.GenericError,
  },
  {
    id: 'validateAiLlm.ok', as: 'admin', needs: ['llm'], what: 'validation with good credentials succeeds',
    run: (c, x) => c.validateAiLlm(x.llm),
    shape: S.ValidateAiLlmResponse,
  },
  {
    id: 'validateAiLlm.bad-credentials', as: 'admin', needs: ['llmBad'], what: 'refused credentials: 200 with success false and a message',
    run: (c, x) => c.validateAiLlm(x.llmBad),
    shape: S.ValidateAiLlmResponse, success: false,
    verify: (b) => [typeof b.message === 'string' && b.message.length > 0 || 'message: empty'],
  },
  {
    id: 'validateAiLlm.read-member', as: 'read', needs: ['llmW'], what: 'a READ member may validate',
    run: (c, x) => c.validateAiLlm(x.llmW),
    shape: S.ValidateAiLlmResponse,
  },
  {
    id: 'validateAiLlm.unknown', as: 'admin', what: 'an unknown configuration is a 404',
    run: (c) => c.validateAiLlm(UNKNOWN_ID),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'validateAiLlm.outsider', as: 'none', needs: ['llm'], what: 'a configuration of another workspace is a 404, not a 403',
    run: (c, x) => c.validateAiLlm(x.llm),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getAvailableAiLlms.validated', as: 'admin', needs: ['llm', 'llmW', 'llmBad'], what: 'only validated configurations are available',
    run: (c) => c.getAvailableAiLlms(),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [
      includes(b.aiLlms, x.llm) || 'aiLlms: a validated configuration is missing',
      includes(b.aiLlms, x.llmW) || 'aiLlms: the configuration the READ member validated is missing',
      !includes(b.aiLlms, x.llmBad) || 'aiLlms: lists a configuration whose validation failed',
    ],
  },
  {
    id: 'updateAiLlm.rename', as: 'admin', needs: ['llm'], what: 'a partial update renames',
    run: (c, x) => c.updateAiLlm(x.llm, { name: `${x.tag}-openai-renamed` }),
    shape: S.UpdateAiLlmResponse,
    verify: (b, x) => [b.aiLlmId === x.llm || `aiLlmId: expected ${x.llm}, got ${show(b.aiLlmId)}`],
  },
  {
    id: 'updateAiLlm.read-member', as: 'read', needs: ['llm'], what: 'a READ member may not update (403)',
    run: (c, x) => c.updateAiLlm(x.llm, { name: `${x.tag}-by-reader` }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'updateAiLlm.unknown', as: 'admin', what: 'an unknown configuration is a 404',
    run: (c, x) => c.updateAiLlm(UNKNOWN_ID, { name: `${x.tag}-ghost` }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'updateAiLlm.outsider', as: 'none', needs: ['llm'], what: 'a configuration of another workspace is a 404',
    run: (c, x) => c.updateAiLlm(x.llm, { name: `${x.tag}-by-outsider` }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'updateAiLlm.null-secret', as: 'admin', needs: ['llm'], what: 'secret: null is a 400 (a configuration always has a secret)',
    run: (c, x) => c.updateAiLlm(x.llm, { secret: null }),
    status: 400, shape: S.GenericError,
  },
  {
    id: 'updateAiLlm.new-origin-without-secret', as: 'admin', needs: ['llm'], what: 'moving to another origin without a secret is a 400 naming secret',
    run: (c, x) => c.updateAiLlm(x.llm, { endpoint: x.f.provider.otherOriginEndpoint }),
    status: 400, shape: S.GenericError,
    verify: (b) => [/secret/i.test(b.message || '') || `message: should name secret, got ${show(b.message)}`],
  },
  {
    id: 'updateAiLlm.rotate-secret', as: 'write', needs: ['llmW'], what: 'a WRITE member rotates the secret',
    run: (c, x) => c.updateAiLlm(x.llmW, { secret: x.f.provider.rotatedSecret }),
    shape: S.UpdateAiLlmResponse,
    verify: (b, x) => [b.aiLlmId === x.llmW || `aiLlmId: expected ${x.llmW}`],
  },
  {
    id: 'getAvailableAiLlms.after-rotation', as: 'admin', needs: ['llm', 'llmW'], what: 'a new secret unvalidates; a rename does not',
    run: (c) => c.getAvailableAiLlms(),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [
      !includes(b.aiLlms, x.llmW) || 'aiLlms: a configuration with a new, unvalidated secret is still available',
      includes(b.aiLlms, x.llm) || 'aiLlms: the validated configuration is missing, although only its name changed since (unless a refused update went through)',
    ],
  },
  {
    id: 'validateAiLlm.after-rotation', as: 'write', needs: ['llmW'], what: 'the rotated secret validates',
    run: (c, x) => c.validateAiLlm(x.llmW),
    shape: S.ValidateAiLlmResponse,
  },
  {
    id: 'getAvailableAiLlms.after-revalidation', as: 'admin', needs: ['llmW'], what: 'validated again, available again',
    run: (c) => c.getAvailableAiLlms(),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [includes(b.aiLlms, x.llmW) || 'aiLlms: the revalidated configuration is missing'],
  },
  {
    id: 'getAiLlmStats.all', as: 'admin', needs: ['llm'], what: 'usage totals, one element per visible configuration',
    run: (c) => c.getAiLlmStats(),
    shape: S.AiLlmStatsResponse,
    verify: (b, x) => [includes(b.stats, x.llm, 'aiLlmId') || 'stats: no element for a visible configuration'],
  },

  // -- Repositories --------------------------------------------------------------------------
  {
    id: 'createStorageRepo.admin', as: 'admin', needs: ['llm'], what: 'create a repository linked to a configuration',
    run: (c, x) => c.createStorageRepo({
      name: `${x.tag}-repo`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws,
      repoAiLlms: [{ aiLlmId: x.llm }], repoBuckets: [],
    }),
    shape: S.CreateRepoResponse,
    keep: (b, x) => { x.repo = b.repoId; },
  },
  {
    id: 'createStorageRepo.duplicate-name', as: 'admin', needs: ['repo'], what: 'a used name: error_code NAME_ALREADY_USED with error_message',
    run: (c, x) => c.createStorageRepo({
      name: `${x.tag}-repo`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws, repoBuckets: [],
    }),
    status: [200, 400], shape: S.RepoError, success: false,
    verify: (b) => [
      b.error_code === 'NAME_ALREADY_USED' || `error_code: expected NAME_ALREADY_USED, got ${show(b.error_code)}`,
      typeof b.error_message === 'string' && b.error_message.length > 0 || 'error_message: missing',
    ],
  },
  {
    id: 'createStorageRepo.read-member', as: 'read', what: 'a READ member may not create (403, repo error shape)',
    run: (c, x) => c.createStorageRepo({
      name: `${x.tag}-repo-by-reader`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws, repoBuckets: [],
    }),
    status: 403, shape: S.RepoError,
  },
  {
    id: 'createStorageRepo.bad-storage-type', as: 'admin', what: 'a storageType outside S3/GCS/BLOB is a 400',
    run: (c, x) => c.createStorageRepo({
      name: `${x.tag}-repo-ftp`, storageType: 'FTP', mode: 'NORMAL', workspaceId: x.ws, repoBuckets: [],
    }),
    status: 400, shape: S.RepoError,
  },
  {
    id: 'getStorageRepos.workspace', as: 'admin', needs: ['repo'], what: 'list a workspace: storage fields echoed, AI link listed',
    run: (c, x) => c.getStorageRepos(x.ws),
    shape: S.GetReposResponse,
    verify: (b, x) => {
      const repo = list(b.repos).find((r) => r.id === x.repo);
      if (!repo) return [`repos: the repository ${x.repo} is missing`];
      return [
        repo.name === `${x.tag}-repo` || `name: expected ${x.tag}-repo, got ${show(repo.name)}`,
        repo.storageType === 'S3' || `storageType: expected S3 (echoed), got ${show(repo.storageType)}`,
        repo.mode === 'NORMAL' || `mode: expected NORMAL (echoed), got ${show(repo.mode)}`,
        repo.workspaceId === x.ws || 'workspaceId: not the repository\'s workspace',
        linkedIds(repo).includes(x.llm) || `aiLlms: the linked configuration is missing, got ${show(repo.aiLlms)}`,
        list(b.repos).every((r) => r.workspaceId === x.ws) || 'repos: lists a repository of another workspace',
      ];
    },
  },
  {
    id: 'getStorageRepos.all', as: 'admin', needs: ['repo'], what: 'no filter (GET /repo?): the caller\'s repositories',
    run: (c) => c.getStorageRepos(),
    shape: S.GetReposResponse,
    verify: (b, x) => [includes(b.repos, x.repo) || 'repos: the caller\'s repository is missing'],
  },
  {
    id: 'getStorageRepos.outsider', as: 'none', needs: ['repo'], what: 'a non-member sees none of the workspace\'s repositories',
    run: (c) => c.getStorageRepos(),
    shape: S.GetReposResponse,
    verify: (b, x) => [!includes(b.repos, x.repo) || 'repos: lists a repository of a workspace the caller is not in'],
  },
  {
    id: 'getStorageRepo.by-id', as: 'admin', needs: ['repo'], what: 'get one (GET /repo?repoId=, the client takes repos[0])',
    run: (c, x) => c.getStorageRepo(x.repo),
    shape: S.GetRepoResult,
    verify: (b, x) => [b.repo && b.repo.id === x.repo || `repo.id: expected ${x.repo}, got ${show(b.repo && b.repo.id)}`],
  },
  {
    id: 'getAiLlms.linked-repos', as: 'admin', needs: ['llm', 'repo'], what: 'each configuration carries its linked repositories',
    run: (c, x) => c.getAiLlms(x.ws),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => {
      const llm = list(b.aiLlms).find((l) => l.id === x.llm);
      return [llm && includes(llm.repos, x.repo) || `repos: the repository linked to ${x.llm} is missing`];
    },
  },
  {
    id: 'updateStorageRepo.admin', as: 'admin', needs: ['repo', 'llmObject'], what: 'a full update renames and links by aiLlm.id',
    run: (c, x) => c.updateStorageRepo(x.repo, {
      name: `${x.tag}-repo-renamed`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws,
      repoAiLlms: [{ aiLlm: x.llmObject }], repoBuckets: [],
    }),
    shape: S.UpdateRepoResponse,
    verify: (b, x) => [b.repoId === x.repo || `repoId: expected ${x.repo}, got ${show(b.repoId)}`],
  },
  {
    id: 'updateStorageRepo.read-member', as: 'read', needs: ['repo'], what: 'a READ member may not update (403, repo error shape)',
    run: (c, x) => c.updateStorageRepo(x.repo, {
      name: `${x.tag}-by-reader`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws, repoBuckets: [],
    }),
    status: 403, shape: S.RepoError,
  },
  {
    id: 'updateStorageRepo.unknown', as: 'admin', what: 'an unknown repository is a 404 (repo error shape)',
    run: (c, x) => c.updateStorageRepo(UNKNOWN_ID, {
      name: `${x.tag}-ghost`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws, repoBuckets: [],
    }),
    status: 404, shape: S.RepoError,
  },
  {
    id: 'getStorageRepo.after-update', as: 'admin', needs: ['repo', 'llm'], what: 'the update replaced name and links',
    run: (c, x) => c.getStorageRepo(x.repo),
    shape: S.GetRepoResult,
    verify: (b, x) => [
      b.repo && b.repo.name === `${x.tag}-repo-renamed` || `repo.name: expected ${x.tag}-repo-renamed, got ${show(b.repo && b.repo.name)}`,
      show(linkedIds(b.repo)) === show([x.llm]) || `repo.aiLlms: expected exactly ${x.llm}, got ${show(linkedIds(b.repo))}`,
    ],
  },

  // -- Repository AI API keys ----------------------------------------------------------------
  {
    id: 'createRepoAiApiKey.admin', as: 'admin', needs: ['repo'], what: 'create a key: its secret is shown this once',
    run: (c, x) => c.createRepoAiApiKey(x.repo, { name: `${x.tag}-key`, aiType: 'OPENAI' }),
    shape: S.CreateRepoAiApiKeyResponse, secretOk: true,
    keep: (b, x) => {
      x.key = b.id;
      x.keySecret = b.secret;
      if (b.secret) x.secrets.push(b.secret);
    },
  },
  {
    id: 'createRepoAiApiKey.read-member', as: 'read', needs: ['repo'], what: 'a READ member may not create (403)',
    run: (c, x) => c.createRepoAiApiKey(x.repo, { name: `${x.tag}-key-by-reader`, aiType: 'OPENAI' }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'createRepoAiApiKey.bad-ai-type', as: 'admin', needs: ['repo'], what: 'an aiType outside AiType is a 400',
    run: (c, x) => c.createRepoAiApiKey(x.repo, { name: `${x.tag}-key-bad`, aiType: 'MISTRAL' }),
    status: 400, shape: S.GenericError,
  },
  {
    id: 'createRepoAiApiKey.unknown-repo', as: 'admin', what: 'an unknown repository is a 404',
    run: (c, x) => c.createRepoAiApiKey(UNKNOWN_ID, { name: `${x.tag}-key-ghost`, aiType: 'OPENAI' }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getRepoAiApiKeys.admin', as: 'admin', needs: ['repo', 'key'], what: 'list keys: active key has deletedAt null, no secret',
    run: (c, x) => c.getRepoAiApiKeys(x.repo),
    shape: S.GetRepoAiApiKeysResponse,
    verify: (b, x) => {
      const key = list(b.apiKeys).find((k) => k.id === x.key);
      if (!key) return [`apiKeys: the key ${x.key} is missing`];
      return [
        key.deletedAt === null || `deletedAt: an active key has null, got ${show(key.deletedAt)}`,
        key.repoId === x.repo || 'repoId: not the repository',
        key.aiType === 'OPENAI' || `aiType: expected OPENAI, got ${show(key.aiType)}`,
        list(b.apiKeys).every((k) => !('secret' in k)) || 'secret: a listed key carries a secret field',
      ];
    },
  },
  {
    id: 'updateRepoAiApiKey.rename', as: 'admin', needs: ['repo', 'key'], what: 'rename a key',
    run: (c, x) => c.updateRepoAiApiKey(x.repo, x.key, { name: `${x.tag}-key-renamed` }),
    shape: S.UpdateRepoAiApiKeyResponse,
  },
  {
    id: 'updateRepoAiApiKey.read-member', as: 'read', needs: ['repo', 'key'], what: 'a READ member may not rename (403)',
    run: (c, x) => c.updateRepoAiApiKey(x.repo, x.key, { name: `${x.tag}-by-reader` }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'updateRepoAiApiKey.unknown', as: 'admin', needs: ['repo'], what: 'an unknown key is a 404',
    run: (c, x) => c.updateRepoAiApiKey(x.repo, UNKNOWN_ID, { name: `${x.tag}-ghost` }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getRepoAiApiKeys.read-member', as: 'read', needs: ['repo', 'key'], what: 'a READ member lists keys and sees the new name',
    run: (c, x) => c.getRepoAiApiKeys(x.repo),
    shape: S.GetRepoAiApiKeysResponse,
    verify: (b, x) => {
      const key = list(b.apiKeys).find((k) => k.id === x.key);
      return [key && key.name === `${x.tag}-key-renamed` || `apiKeys: the key renamed to ${x.tag}-key-renamed is missing`];
    },
  },

  {
    id: 'gateway.plain-prompt', as: 'anon', needs: ['keySecret'], what: 'POST /v1/chat/completions with the repository key: forwarded and counted',
    run: (c, x) => gatewayChat(x, x.keySecret, 'Say hello to the conformance suite'),
    shape: { choices: ['array', 'object'] }, success: undefined, loose: true,
    keep: (b, x) => { x.gatewayCalled = true; },
  },

  // -- AI models --------------------------------------------------------------------------
  {
    id: 'getAiModels.repo', as: 'admin', needs: ['repo'], what: 'the models of the repository\'s validated configurations',
    run: (c, x) => c.getAiModels({ repoId: x.repo }),
    shape: S.GetAiModelsResponse,
    verify: (b, x) => [
      x.f.provider.models.every((m) => includes(b.models, m)) || `models: expected ${show(x.f.provider.models)}, got ${show(ids(b.models))}`,
      list(b.models).every((m) => m.aiType === 'OPENAI') || 'models[].aiType: expected OPENAI',
      list(b.models).every((m) => m.llmProvider === 'OPENAI') || 'models[].llmProvider: expected the provider type\'s name, OPENAI',
    ],
  },
  {
    id: 'getAiModels.narrowed', as: 'admin', needs: ['repo'], what: 'aiType narrows the list',
    run: (c, x) => c.getAiModels({ repoId: x.repo, aiType: 'ANTHROPIC' }),
    shape: S.GetAiModelsResponse,
    verify: (b) => [list(b.models).length === 0 || `models: expected none for ANTHROPIC, got ${show(ids(b.models))}`],
  },
  {
    id: 'getAiModels.unknown-repo', as: 'admin', what: 'an unknown repository is a 404',
    run: (c) => c.getAiModels({ repoId: UNKNOWN_ID }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getAiModels.outsider', as: 'none', needs: ['repo'], what: 'a repository of another workspace is a 404',
    run: (c, x) => c.getAiModels({ repoId: x.repo }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getAiModels.missing-repo-id', as: 'admin', what: 'repoId is required (400)',
    run: (c) => c.getAiModels({}),
    status: 400, shape: S.GenericError,
  },

  // -- Policies ---------------------------------------------------------------------------------
  {
    id: 'createPolicy.workspace', as: 'admin', needs: ['orgId'], what: 'a keyword rule that alerts, for the workspace',
    run: (c, x) => c.createPolicy({
      name: `${x.tag}-no-launch-codes`, content: 'zebra-launch-code, quokka-secret-plan', riskType: 'HIGH',
      actionType: 1, orgId: x.orgId, workspaceId: x.ws, repoId: null,
    }),
    shape: S.PolicyResponse,
    verify: (b, x) => {
      const p = b.policy || {};
      return [
        p.name === `${x.tag}-no-launch-codes` || 'policy.name: not the name sent',
        p.content === 'zebra-launch-code, quokka-secret-plan' || 'policy.content: not the content sent',
        p.riskType === 'HIGH' || `policy.riskType: expected HIGH, got ${show(p.riskType)}`,
        p.actionType === 1 || `policy.actionType: expected 1, got ${show(p.actionType)}`,
        p.orgId === x.orgId || `policy.orgId: expected ${x.orgId}`,
        p.workspaceId === x.ws || `policy.workspaceId: expected ${x.ws}, got ${show(p.workspaceId)}`,
        p.repoId === null || `policy.repoId: expected null, got ${show(p.repoId)}`,
        p.createdBy && p.createdBy.id === x.f.users.admin.id || 'policy.createdBy.id: not the creator',
        p.lastUpdatedBy && p.lastUpdatedBy.id === x.f.users.admin.id || 'policy.lastUpdatedBy.id: not the creator',
      ];
    },
    keep: (b, x) => { x.policy = b.policy && b.policy.id; },
  },
  {
    id: 'createPolicy.repo', as: 'admin', needs: ['orgId', 'repo'], what: 'a regular-expression rule that blocks, for one repository',
    run: (c, x) => c.createPolicy({
      name: `${x.tag}-block-tickets`, content: 're:blocked-ticket-\\d+', riskType: 'MEDIUM', actionType: 2,
      orgId: x.orgId, repoId: x.repo,
    }),
    shape: S.PolicyResponse,
    verify: (b, x) => [b.policy && b.policy.repoId === x.repo || `policy.repoId: expected ${x.repo}`],
    keep: (b, x) => { x.policyRepo = b.policy && b.policy.id; },
  },
  {
    id: 'createPolicy.log-only', as: 'admin', needs: ['orgId'], what: 'actionType 0 (log only) is a valid action',
    run: (c, x) => c.createPolicy({
      name: `${x.tag}-log-pelicans`, content: 'pelican-banana-code', riskType: 'LOW', actionType: 0,
      orgId: x.orgId, workspaceId: x.ws,
    }),
    shape: S.PolicyResponse,
    verify: (b) => [b.policy && b.policy.actionType === 0 || `policy.actionType: expected 0, got ${show(b.policy && b.policy.actionType)}`],
  },
  {
    id: 'createPolicy.read-member', as: 'read', needs: ['orgId'], what: 'a READ member may not create (403)',
    run: (c, x) => c.createPolicy({
      name: `${x.tag}-by-reader`, content: 'anything', riskType: 'LOW', actionType: 1, orgId: x.orgId, workspaceId: x.ws,
    }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'createPolicy.bad-risk-type', as: 'admin', needs: ['orgId'], what: 'riskType is uppercase RiskType; "low" is a 400',
    run: (c, x) => c.createPolicy({
      name: `${x.tag}-lowercase`, content: 'anything', riskType: 'low', actionType: 1, orgId: x.orgId, workspaceId: x.ws,
    }),
    status: 400, shape: S.GenericError,
  },
  {
    id: 'getPolicies.org', as: 'admin', needs: ['orgId', 'policy'], what: 'list by org',
    run: (c, x) => c.getPolicies({ orgId: x.orgId }),
    shape: S.PoliciesResponse,
    verify: (b, x) => [
      includes(b.policies, x.policy) || 'policies: the workspace policy is missing',
      !x.policyRepo || includes(b.policies, x.policyRepo) || 'policies: the repository policy is missing',
    ],
  },
  {
    id: 'getPolicies.workspace', as: 'admin', needs: ['orgId', 'policy'], what: 'list by workspace',
    run: (c, x) => c.getPolicies({ orgId: x.orgId, workspaceId: x.ws }),
    shape: S.PoliciesResponse,
    verify: (b, x) => [includes(b.policies, x.policy) || 'policies: the workspace policy is missing'],
  },
  {
    id: 'getPolicies.repo', as: 'admin', needs: ['orgId', 'policyRepo'], what: 'list by repository',
    run: (c, x) => c.getPolicies({ orgId: x.orgId, repoId: x.repo }),
    shape: S.PoliciesResponse,
    verify: (b, x) => [includes(b.policies, x.policyRepo) || 'policies: the repository policy is missing'],
  },
  {
    id: 'getPolicy.by-id', as: 'admin', needs: ['policy'], what: 'get one',
    run: (c, x) => c.getPolicy(x.policy),
    shape: S.PolicyResponse,
    verify: (b, x) => [
      b.policy && b.policy.id === x.policy || 'policy.id: not the policy asked for',
      !(b.policy && b.policy.workspace) || b.policy.workspace.id === x.ws || 'policy.workspace.id: not its workspace',
    ],
  },
  {
    id: 'getPolicy.unknown', as: 'admin', what: 'an unknown policy is a 404',
    run: (c) => c.getPolicy(UNKNOWN_ID),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getPolicy.outsider', as: 'none', needs: ['policy'], what: 'a policy of another workspace is a 404',
    run: (c, x) => c.getPolicy(x.policy),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'updatePolicy.rename', as: 'admin', needs: ['policy'], what: 'a partial update keeps the rest',
    run: (c, x) => c.updatePolicy(x.policy, { name: `${x.tag}-no-launch-codes-v2` }),
    shape: S.PolicyResponse,
    verify: (b, x) => {
      const p = b.policy || {};
      return [
        p.name === `${x.tag}-no-launch-codes-v2` || 'policy.name: not the new name',
        p.content === 'zebra-launch-code, quokka-secret-plan' || 'policy.content: changed by an update that did not send it',
        p.actionType === 1 || 'policy.actionType: changed by an update that did not send it',
        p.lastUpdatedBy && p.lastUpdatedBy.id === x.f.users.admin.id || 'policy.lastUpdatedBy.id: not the updater',
        !(p.lastUpdatedAt < p.createdAt) || 'policy.lastUpdatedAt: earlier than createdAt',
      ];
    },
  },
  {
    id: 'updatePolicy.read-member', as: 'read', needs: ['policy'], what: 'a READ member may not update (403)',
    run: (c, x) => c.updatePolicy(x.policy, { name: `${x.tag}-by-reader` }),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'updatePolicy.unknown', as: 'admin', what: 'an unknown policy is a 404',
    run: (c, x) => c.updatePolicy(UNKNOWN_ID, { name: `${x.tag}-ghost` }),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'validatePolicies.lint', as: 'admin', what: 'lint rules: no success field; a broken rule scores lower with issues',
    run: (c) => c.validatePolicies({
      policies: [
        { policy_uuid: 'keywords', content: 'zebra-launch-code, quokka-secret-plan' },
        { policy_uuid: 'broken-regex', content: 're:(unclosed' },
        { policy_uuid: 'prose', content: 'Be kind to customers and never share internal plans.' },
      ],
    }),
    shape: S.PolicyValidationResponse,
    verify: (b) => {
      const [good, broken, prose] = list(b.results);
      return [
        !('success' in b) || 'success: policy validate declares no success field',
        show(list(b.results).map((r) => r.policy_uuid)) === show(['keywords', 'broken-regex', 'prose'])
          || `results: expected one per policy, in order, got ${show(list(b.results).map((r) => r.policy_uuid))}`,
        !broken || broken.severity !== 'none' || 'results[1].severity: a rule that does not compile is not "none"',
        !broken || list(broken.issues).length > 0 || 'results[1].issues: a rule that does not compile has issues',
        !(good && broken) || broken.score < good.score || 'results[1].score: a broken rule scores lower than a good one',
        !prose || list(prose.issues).length > 0 || 'results[2].issues: content the local platform cannot enforce should say so',
      ];
    },
  },
  {
    id: 'recommendPolicies.workspace', as: 'admin', what: 'recommend from the catalogue: echoes level and uuid, no tokens, no success',
    run: (c, x) => c.recommendPolicies({ level: 1, uuid: x.ws, prompt: 'We store customer credit card numbers and cloud API keys' }),
    shape: S.PolicyRecommendationResponse,
    verify: (b, x) => [
      !('success' in b) || 'success: policy recommend declares no success field',
      b.level === 1 || `level: expected 1 (echoed), got ${show(b.level)}`,
      b.uuid === x.ws || `uuid: expected ${x.ws} (echoed), got ${show(b.uuid)}`,
      b.tokens_in === 0 && b.tokens_out === 0 || `tokens_in/tokens_out: expected 0 (no model is called), got ${b.tokens_in}/${b.tokens_out}`,
      list(b.recommended_policies).length > 0 || 'recommended_policies: empty for a prompt about cards and keys',
    ],
  },
  {
    id: 'recommendPolicies.bad-level', as: 'admin', what: 'a level outside 0|1|2 is a 400',
    run: (c) => c.recommendPolicies({ level: 7, prompt: 'anything' }),
    status: 400, shape: S.GenericError,
  },

  // -- Traffic through the gateway, so that violations, alerts and usage exist ----------------
  {
    id: 'gateway.alerting-prompt', as: 'anon', needs: ['keySecret', 'policy'], what: 'POST /v1/chat/completions with the repository key: matched, alerted, forwarded',
    run: (c, x) => gatewayChat(x, x.keySecret, ALERT_PROMPT),
    shape: { choices: ['array', 'object'] }, success: undefined, loose: true,
    keep: (b, x) => { x.alertingCall = true; },
  },
  {
    id: 'gateway.blocking-prompt', as: 'anon', needs: ['keySecret', 'policyRepo'], what: 'a blocking rule answers 403 with an OpenAI-style error',
    run: (c, x) => gatewayChat(x, x.keySecret, BLOCK_PROMPT),
    status: 403, shape: { error: { message: 'string' } }, loose: true,
    keep: (b, x) => { x.blockingCall = true; },
  },

  // -- Violations and alerts ----------------------------------------------------------------------
  {
    id: 'getPolicyViolations.all', as: 'admin', needs: ['alertingCall'], what: 'no filter (GET /policy/violations?): defaults skip 0, take 50',
    run: (c) => c.getPolicyViolations({}),
    shape: S.ViolationsResponse,
    until: (b, x) => includes(b.violations, x.policy, 'policyId'),
    verify: (b, x) => {
      const v = list(b.violations).find((row) => row.policyId === x.policy);
      if (!v) return [`violations: no row for policy ${x.policy} after a matching gateway call`];
      return [
        b.skip === 0 || `skip: defaults to 0, got ${show(b.skip)}`,
        b.take === 50 || `take: defaults to 50, got ${show(b.take)}`,
        b.total >= list(b.violations).length || 'total: smaller than the page',
        v.repoId === x.repo || 'repoId: not the repository of the key',
        v.repoAiApiKeyId === x.key || 'repoAiApiKeyId: not the key used',
        v.severity === 'HIGH' || `severity: expected the policy's riskType HIGH, got ${show(v.severity)}`,
        v.block === false || 'block: an alerting policy does not block',
        v.llmModel === x.f.provider.models[0] || `llmModel: expected ${x.f.provider.models[0]}, got ${show(v.llmModel)}`,
        !v.explanation.includes(ALERT_PROMPT) || 'explanation: carries the prompt text',
        v.explanation.length > 0 || 'explanation: empty',
        !x.blockingCall || includes(b.violations, x.policyRepo, 'policyId') || 'violations: no row for the blocked call',
      ];
    },
  },
  {
    id: 'getPolicyViolations.filtered', as: 'admin', needs: ['alertingCall'], what: 'filters, CSV values, paging echoed',
    run: (c, x) => c.getPolicyViolations({
      workspaceId: x.ws, repoId: x.repo, severity: ['HIGH', 'LOW'], block: false, take: 10, skip: 0,
      llmModel: [x.f.provider.models[0], 'no-such-model'],
    }),
    shape: S.ViolationsResponse,
    verify: (b, x) => [
      b.take === 10 && b.skip === 0 || `take/skip: expected 10/0, got ${b.take}/${b.skip}`,
      includes(b.violations, x.policy, 'policyId') || 'violations: the matching row is missing (is severity=HIGH%2CLOW decoded?)',
      list(b.violations).every((v) => ['HIGH', 'LOW'].includes(v.severity)) || 'violations: a row outside the severity filter',
      list(b.violations).every((v) => v.block === false) || 'violations: a blocking row despite block=false',
    ],
  },
  {
    id: 'getPolicyViolations.blocked', as: 'admin', needs: ['blockingCall'], what: 'block=true: only blocking rows',
    run: (c) => c.getPolicyViolations({ block: true }),
    shape: S.ViolationsResponse,
    verify: (b, x) => [
      includes(b.violations, x.policyRepo, 'policyId') || 'violations: the blocked call is missing',
      list(b.violations).every((v) => v.block === true) || 'violations: a non-blocking row despite block=true',
    ],
  },
  {
    id: 'getPolicyViolations.paged', as: 'admin', needs: ['alertingCall', 'blockingCall'], what: 'take 1: one row, total counts all',
    run: (c) => c.getPolicyViolations({ take: 1, skip: 0 }),
    shape: S.ViolationsResponse,
    verify: (b) => [
      list(b.violations).length === 1 || `violations: expected 1 row, got ${list(b.violations).length}`,
      b.total >= 2 || `total: expected at least the 2 matches, got ${show(b.total)}`,
    ],
  },
  {
    id: 'getPolicyViolations.outsider', as: 'none', needs: ['alertingCall'], what: 'a non-member sees none of the workspace\'s violations',
    run: (c) => c.getPolicyViolations({}),
    shape: S.ViolationsResponse,
    verify: (b, x) => [!includes(b.violations, x.policy, 'policyId') || 'violations: shows rows of a workspace the caller is not in'],
  },
  {
    id: 'getPolicyViolationsByPolicyId.policy', as: 'admin', needs: ['alertingCall'], what: 'one policy\'s violations',
    run: (c, x) => c.getPolicyViolationsByPolicyId(x.policy, {}),
    shape: S.ViolationsResponse,
    verify: (b, x) => [
      list(b.violations).length > 0 || 'violations: empty',
      list(b.violations).every((v) => v.policyId === x.policy) || 'violations: a row of another policy',
    ],
  },
  {
    id: 'getPolicyAlerts.all', as: 'admin', needs: ['alertingCall'], what: 'no filter (GET /policy/alerts?)',
    run: (c) => c.getPolicyAlerts({}),
    shape: S.AlertsResponse,
    until: (b, x) => includes(b.alerts, x.policy, 'policyId'),
    verify: (b, x) => {
      const a = list(b.alerts).find((row) => row.policyId === x.policy);
      if (!a) return [`alerts: no row for the alerting policy ${x.policy}`];
      return [
        b.skip === 0 && b.take === 50 || `skip/take: default 0/50, got ${b.skip}/${b.take}`,
        a.message.length > 0 || 'message: empty',
        !a.message.includes(ALERT_PROMPT) || 'message: carries the prompt text',
        a.repoAiApiKeyId === x.key || 'repoAiApiKeyId: not the key used',
        !x.blockingCall || includes(b.alerts, x.policyRepo, 'policyId') || 'alerts: no row for the blocked call (a blocking policy alerts too)',
      ];
    },
  },
  {
    id: 'getPolicyAlerts.filtered', as: 'admin', needs: ['alertingCall'], what: 'filters and paging',
    run: (c, x) => c.getPolicyAlerts({ workspaceId: x.ws, repoId: x.repo, take: 5, skip: 0, llmModel: [x.f.provider.models[0]] }),
    shape: S.AlertsResponse,
    verify: (b, x) => [
      b.take === 5 && b.skip === 0 || `take/skip: expected 5/0, got ${b.take}/${b.skip}`,
      includes(b.alerts, x.policy, 'policyId') || 'alerts: the matching row is missing',
      list(b.alerts).every((a) => a.repoId === x.repo) || 'alerts: a row of another repository',
    ],
  },
  {
    id: 'getPolicyAlerts.outsider', as: 'none', what: 'an inaccessible workspace gives an empty list, not an error',
    run: (c, x) => c.getPolicyAlerts({ workspaceId: x.ws }),
    shape: S.AlertsResponse,
    verify: (b) => [list(b.alerts).length === 0 || 'alerts: rows of a workspace the caller is not in'],
  },
  {
    id: 'getPolicyAlertsByPolicyId.policy', as: 'admin', needs: ['alertingCall'], what: 'one policy\'s alerts',
    run: (c, x) => c.getPolicyAlertsByPolicyId(x.policy, {}),
    shape: S.AlertsResponse,
    verify: (b, x) => [
      list(b.alerts).length > 0 || 'alerts: empty',
      list(b.alerts).every((a) => a.policyId === x.policy) || 'alerts: a row of another policy',
    ],
  },

  // -- Usage: totals and time series -----------------------------------------------------------
  {
    id: 'getAiLlmStats.one', as: 'admin', needs: ['llm', 'gatewayCalled'], what: 'one configuration\'s totals (decimal strings)',
    run: (c, x) => c.getAiLlmStats(x.llm),
    shape: S.AiLlmStatsResponse,
    until: (b) => list(b.stats).some((s) => Number(s.totalApiCalls) >= 1),
    verify: (b, x) => [
      list(b.stats).length === 1 || `stats: expected one element, got ${list(b.stats).length}`,
      list(b.stats).every((s) => s.aiLlmId === x.llm) || 'stats: an element of another configuration',
      list(b.stats).some((s) => Number(s.totalApiCalls) >= 1) || 'totalApiCalls: the gateway call is not counted',
      !x.alertingCall || list(b.stats).some((s) => Number(s.totalPolicyViolations) >= 1) || 'totalPolicyViolations: the matched call is not counted',
    ],
  },
  {
    id: 'getAiStatsMinute.all', as: 'admin', what: 'no filter (GET /aistats/minute?)',
    run: (c) => c.getAiStatsMinute({}),
    shape: S.AiStatsResponse,
  },
  {
    id: 'getAiStatsMinute.filtered', as: 'admin', needs: ['gatewayCalled'], what: 'date range and CSV filters (%2C-encoded)',
    run: (c, x) => c.getAiStatsMinute({
      startDate: new Date(x.startedAt - 3600e3), endDate: new Date(Date.now() + 120e3),
      repoId: [x.repo], aiLlmId: [x.llm, x.llmW || UNKNOWN_ID], repoAiApiKeyId: [x.key], userUuid: [GATEWAY_USER],
    }),
    shape: S.AiStatsResponse,
    until: (b) => list(b.data).length > 0,
    verify: (b, x) => [
      list(b.data).length > 0 || 'data: no row for the gateway call',
      list(b.data).every((r) => r.repoId === x.repo && r.repoAiApiKeyId === x.key) || 'data: a row outside repoId/repoAiApiKeyId',
      list(b.data).every((r) => [x.llm, x.llmW].includes(r.aiLlmId)) || 'data: a row outside aiLlmId',
      list(b.data).every((r) => r.userUuid === GATEWAY_USER) || `data: userUuid should be the chat request's user ${GATEWAY_USER}`,
      list(b.data).every((r) => r.timestamp >= x.startedAt - 3600e3) || 'data: a row before startDate',
      list(b.data).some((r) => r.apiCalls >= 1) || 'data: apiCalls not counted',
    ],
    keep: (b, x) => { x.statsRow = list(b.data)[0]; },
  },
  {
    id: 'getAiStatsMinute.no-match', as: 'admin', what: 'a filter that matches nothing gives no rows',
    run: (c) => c.getAiStatsMinute({ llmModel: ['no-such-model-anywhere'] }),
    shape: S.AiStatsResponse,
    verify: (b) => [list(b.data).length === 0 || 'data: rows despite a model filter that matches nothing'],
  },
  {
    id: 'getAiStatsDaily.all', as: 'admin', what: 'no filter (GET /aistats/daily?)',
    run: (c) => c.getAiStatsDaily({}),
    shape: S.AiStatsResponse,
  },
  {
    id: 'getAiStatsDaily.filtered', as: 'admin', needs: ['statsRow'], what: 'hosts, llmType, llmModel and conversationUuid filters',
    run: (c, x) => c.getAiStatsDaily({
      startDate: new Date(x.startedAt - 2 * 86400e3), endDate: new Date(Date.now() + 86400e3),
      repoId: [x.repo], hosts: present(x.statsRow.host), llmType: present(x.statsRow.llmType),
      llmModel: present(x.statsRow.llmModel), conversationUuid: present(x.statsRow.conversationUuid),
    }),
    shape: S.AiStatsResponse,
    verify: (b, x) => [
      list(b.data).length > 0 || 'data: no row for the filters of a known row',
      list(b.data).every((r) => r.host === x.statsRow.host && r.llmModel === x.statsRow.llmModel) || 'data: a row outside hosts/llmModel',
      list(b.data).every((r) => r.conversationUuid === x.statsRow.conversationUuid) || 'data: a row outside conversationUuid',
    ],
  },

  // -- System events ----------------------------------------------------------------------------
  {
    id: 'getSystemEvents.page', as: 'admin', what: 'paging: skip and take echoed, no success field',
    run: (c) => c.getSystemEvents({ skip: 0, take: 5 }),
    shape: S.SystemEventQueryResponse,
    verify: (b) => [
      !('success' in b) || 'success: the system event query declares no success field',
      b.skip === 0 && b.take === 5 || `skip/take: expected 0/5, got ${b.skip}/${b.take}`,
      eventRows(b).length <= 5 || `events: more than take (${eventRows(b).length})`,
      b.total >= eventRows(b).length || 'total: smaller than the page',
    ],
  },
  {
    id: 'getSystemEvents.config', as: 'admin', needs: ['llm'], what: 'one configuration\'s events: created and updated, changed fields named',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 50, context: 11, contextId: x.llm }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => {
      const rows = eventRows(b);
      const updated = rows.filter((e) => e.event === 'updated');
      let changed = [];
      try {
        changed = updated.flatMap((e) => list(JSON.parse(e.jsonData || '{}').changed));
      } catch { /* reported by the shape */ }
      return [
        rows.every((e) => e.context === 'aillm' && e.contextId === x.llm) || 'events: a row outside context/contextId',
        rows.some((e) => e.event === 'created') || 'events: no "created" event for the configuration',
        changed.includes('name') || `events: no "updated" event with jsonData {"changed": [..."name"...]}, got ${show(updated.map((e) => e.jsonData))}`,
        rows.every((e) => e.workspaceId === x.ws) || 'events[].workspaceId: not the configuration\'s workspace',
        rows.some((e) => e.userId === x.f.users.admin.id && e.userEmail === x.f.users.admin.email) || 'events: none names the admin who acted',
      ];
    },
  },
  {
    id: 'getSystemEvents.created-in-workspace', as: 'admin', needs: ['llm', 'repo'], what: 'event and workspaceId filters',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 100, event: 0, workspaceId: x.ws }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => [
      eventRows(b).every((e) => e.event === 'created' && e.workspaceId === x.ws) || 'events: a row outside event/workspaceId',
      eventRows(b).some((e) => e.context === 'aillm' && e.contextId === x.llm) || 'events: the configuration\'s creation is missing',
      eventRows(b).some((e) => e.context === 'repo' && e.contextId === x.repo) || 'events: the repository\'s creation is missing',
    ],
  },
  {
    id: 'getSystemEvents.time-range', as: 'admin', what: 'from_timestamp, to_timestamp and userId filters',
    run: (c, x) => c.getSystemEvents({
      skip: 0, take: 50, from_timestamp: new Date(x.startedAt - 60e3).toISOString(),
      to_timestamp: new Date(Date.now() + 60e3).toISOString(), userId: x.f.users.admin.id,
    }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => [
      eventRows(b).length > 0 || 'events: none by the admin since the run started',
      eventRows(b).every((e) => e.userId === x.f.users.admin.id) || 'events: a row of another user',
      eventRows(b).every((e) => Date.parse(e.timestamp) >= x.startedAt - 60e3) || 'events: a row before from_timestamp',
    ],
  },
  {
    id: 'getSystemEvents.unread', as: 'admin', needs: ['llm'], what: 'showUnread: only events not read yet',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 50, contextId: x.llm, showUnread: true }),
    shape: S.SystemEventQueryResponse,
    verify: (b) => [
      eventRows(b).length >= 2 || 'events: expected the unread created and updated events',
      eventRows(b).every((e) => e.showUnread === true) || 'events[].showUnread: false in an unread-only list',
    ],
    keep: (b, x) => { x.eventIds = eventRows(b).length ? eventRows(b).map((e) => e.id) : undefined; },
  },
  {
    id: 'markSystemEventAsRead.one', as: 'admin', needs: ['eventIds'], what: 'mark one event read ({id})',
    run: (c, x) => c.markSystemEventAsRead(x.eventIds[0]),
    shape: S.SystemEventReadStatusResponse,
  },
  {
    id: 'getSystemEvents.after-read', as: 'admin', needs: ['eventIds'], what: 'the read event leaves the unread list and shows showUnread false',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 50, contextId: x.llm }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => {
      const read = eventRows(b).find((e) => e.id === x.eventIds[0]);
      return [
        read !== undefined || 'events: the read event is missing from the full list',
        !read || read.showUnread === false || 'events[].showUnread: still true after marking it read',
        eventRows(b).filter((e) => e.id !== x.eventIds[0]).every((e) => e.showUnread === true) || 'events[].showUnread: another event turned read',
      ];
    },
  },
  {
    id: 'markSystemEventAsUnread.one', as: 'admin', needs: ['eventIds'], what: 'mark it unread again (DELETE with {id})',
    run: (c, x) => c.markSystemEventAsUnread(x.eventIds[0]),
    shape: S.SystemEventReadStatusResponse,
  },
  {
    id: 'getSystemEvents.after-unread', as: 'admin', needs: ['eventIds'], what: 'the event is unread again',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 50, contextId: x.llm, showUnread: true }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => [includes(eventRows(b), x.eventIds[0]) || 'events: the event marked unread is missing from the unread list'],
  },
  {
    id: 'markSystemEventAsRead.many', as: 'admin', needs: ['eventIds'], what: 'mark several read ({ids})',
    run: (c, x) => c.markSystemEventAsRead(x.eventIds),
    shape: S.SystemEventReadStatusResponse,
  },
  {
    id: 'getSystemEvents.after-read-many', as: 'admin', needs: ['eventIds'], what: 'none of them is unread',
    run: (c, x) => c.getSystemEvents({ skip: 0, take: 50, contextId: x.llm, showUnread: true }),
    shape: S.SystemEventQueryResponse,
    verify: (b, x) => [!x.eventIds.some((id) => includes(eventRows(b), id)) || 'events: an event marked read is still unread'],
  },
  {
    id: 'markSystemEventAsUnread.many', as: 'admin', needs: ['eventIds'], what: 'mark several unread ({ids})',
    run: (c, x) => c.markSystemEventAsUnread(x.eventIds),
    shape: S.SystemEventReadStatusResponse,
  },

  // -- Revoking and deleting ------------------------------------------------------------------
  {
    id: 'deleteRepoAiApiKey.read-member', as: 'read', needs: ['repo', 'key'], what: 'a READ member may not revoke (403)',
    run: (c, x) => c.deleteRepoAiApiKey(x.repo, x.key),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'deleteRepoAiApiKey.admin', as: 'admin', needs: ['repo', 'key'], what: 'revoke a key',
    run: (c, x) => c.deleteRepoAiApiKey(x.repo, x.key),
    shape: S.DeleteRepoAiApiKeyResponse,
  },
  {
    id: 'getRepoAiApiKeys.after-revoke', as: 'admin', needs: ['repo', 'key'], what: 'a revoked key is listed with deletedAt set',
    run: (c, x) => c.getRepoAiApiKeys(x.repo),
    shape: S.GetRepoAiApiKeysResponse,
    verify: (b, x) => {
      const key = list(b.apiKeys).find((k) => k.id === x.key);
      return [key && typeof key.deletedAt === 'string' || `apiKeys: the revoked key should be listed with deletedAt set, got ${show(key)}`];
    },
  },
  {
    id: 'gateway.revoked-key', as: 'anon', needs: ['keySecret'], what: 'a revoked key no longer works at the gateway',
    run: (c, x) => gatewayChat(x, x.keySecret, 'hello'),
    status: [401, 403], shape: { error: { message: 'string' } }, loose: true,
  },
  {
    id: 'deleteAiLlm.in-use', as: 'admin', needs: ['llm', 'repo'], what: 'a configuration a repository uses cannot be deleted (403)',
    run: (c, x) => c.deleteAiLlm(x.llm),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'deleteAiLlm.read-member', as: 'read', needs: ['llmW'], what: 'a READ member may not delete (403)',
    run: (c, x) => c.deleteAiLlm(x.llmW),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'deleteAiLlm.outsider', as: 'none', needs: ['llmW'], what: 'a configuration of another workspace is a 404',
    run: (c, x) => c.deleteAiLlm(x.llmW),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'deleteAiLlm.unknown', as: 'admin', what: 'an unknown configuration is a 404',
    run: (c) => c.deleteAiLlm(UNKNOWN_ID),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'deletePolicy.read-member', as: 'read', needs: ['policy'], what: 'a READ member may not delete (403)',
    run: (c, x) => c.deletePolicy(x.policy),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'deletePolicy.admin', as: 'admin', needs: ['policy'], what: 'delete a policy',
    run: (c, x) => c.deletePolicy(x.policy),
    shape: S.DeletePolicyResponse,
  },
  {
    id: 'getPolicy.after-delete', as: 'admin', needs: ['policy'], what: 'a deleted policy is a 404',
    run: (c, x) => c.getPolicy(x.policy),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'deletePolicy.repo', as: 'admin', needs: ['policyRepo'], what: 'delete the repository\'s policy',
    run: (c, x) => c.deletePolicy(x.policyRepo),
    shape: S.DeletePolicyResponse,
  },
  {
    id: 'deletePolicy.unknown', as: 'admin', what: 'an unknown policy is a 404',
    run: (c) => c.deletePolicy(UNKNOWN_ID),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'updateStorageRepo.unlink', as: 'admin', needs: ['repo'], what: 'an update with no AI links unlinks',
    run: (c, x) => c.updateStorageRepo(x.repo, {
      name: `${x.tag}-repo-renamed`, storageType: 'S3', mode: 'NORMAL', workspaceId: x.ws, repoAiLlms: [], repoBuckets: [],
    }),
    shape: S.UpdateRepoResponse,
  },
  {
    id: 'deleteAiLlm.admin', as: 'admin', needs: ['llm'], what: 'an unlinked configuration can be deleted',
    run: (c, x) => c.deleteAiLlm(x.llm),
    shape: S.DeleteAiLlmResponse,
  },
  {
    id: 'deleteAiLlm.write-member', as: 'write', needs: ['llmW'], what: 'a WRITE member deletes',
    run: (c, x) => c.deleteAiLlm(x.llmW),
    shape: S.DeleteAiLlmResponse,
  },
  {
    id: 'deleteAiLlm.unvalidated', as: 'admin', needs: ['llmBad'], what: 'delete the configuration that never validated',
    run: (c, x) => c.deleteAiLlm(x.llmBad),
    shape: S.DeleteAiLlmResponse,
  },
  {
    id: 'getAiLlms.after-delete', as: 'admin', needs: ['llm'], what: 'deleted configurations are gone',
    run: (c, x) => c.getAiLlms(x.ws),
    shape: S.GetAiLlmsResponse,
    verify: (b, x) => [![x.llm, x.llmW, x.llmBad].some((id) => id && includes(b.aiLlms, id)) || 'aiLlms: a deleted configuration is still listed'],
  },
  {
    id: 'deleteStorageRepo.read-member', as: 'read', needs: ['repo'], what: 'a READ member may not delete (403)',
    run: (c, x) => c.deleteStorageRepo(x.repo),
    status: 403, shape: S.GenericError,
  },
  {
    id: 'deleteStorageRepo.admin', as: 'admin', needs: ['repo'], what: 'delete the repository',
    run: (c, x) => c.deleteStorageRepo(x.repo),
    shape: S.DeleteRepoResponse,
  },
  {
    id: 'deleteStorageRepo.unknown', as: 'admin', what: 'an unknown repository is a 404',
    run: (c) => c.deleteStorageRepo(UNKNOWN_ID),
    status: 404, shape: S.GenericError,
  },
  {
    id: 'getStorageRepos.after-delete', as: 'admin', needs: ['repo'], what: 'the deleted repository is gone',
    run: (c, x) => c.getStorageRepos(x.ws),
    shape: S.GetReposResponse,
    verify: (b, x) => [!includes(b.repos, x.repo) || 'repos: the deleted repository is still listed'],
  },
  {
    id: 'deleteWorkspace.in-use', as: 'owner', needs: ['ws2', 'llm2'], what: 'a workspace holding configurations cannot be deleted (403)',
    run: (c, x) => c.deleteWorkspace(x.ws2),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'deleteWorkspace.org-user', as: 'admin', what: 'a workspace ADMIN who is an org USER may not delete it (403)',
    run: (c, x) => c.deleteWorkspace(x.ws),
    status: 403, shape: S.WorkspaceError,
  },
  {
    id: 'deleteAiLlm.second-workspace', as: 'spare', needs: ['llm2'], what: 'empty the second workspace',
    run: (c, x) => c.deleteAiLlm(x.llm2),
    shape: S.DeleteAiLlmResponse,
  },
  {
    id: 'removeUserFromWorkspace.owner', as: 'owner', needs: ['ws2'], what: 'the OWNER removes a member of any workspace',
    run: (c, x) => c.removeUserFromWorkspace(x.ws2, x.f.users.spare.id),
    shape: S.RemoveUserFromWorkspaceResponse,
  },
  {
    id: 'deleteWorkspace.owner', as: 'owner', needs: ['ws2'], what: 'the OWNER deletes an empty workspace',
    run: (c, x) => c.deleteWorkspace(x.ws2),
    shape: S.DeleteWorkspaceResponse,
  },
  {
    id: 'getWorkspace.after-delete', as: 'owner', needs: ['ws2'], what: 'a deleted workspace is a 404',
    run: (c, x) => c.getWorkspace(x.ws2),
    status: 404, shape: S.WorkspaceError,
  },
  {
    id: 'updateWorkspaceUserRole.last-admin', as: 'owner', what: 'the last ADMIN of a workspace cannot be demoted',
    run: (c, x) => c.updateWorkspaceUserRole(x.ws, x.f.users.admin.id, { role: 'READ' }),
    status: [400, 403], shape: S.WorkspaceError,
  },
  {
    id: 'removeUserFromWorkspace.last-admin', as: 'owner', what: 'the last ADMIN of a workspace cannot be removed',
    run: (c, x) => c.removeUserFromWorkspace(x.ws, x.f.users.admin.id),
    status: [400, 403], shape: S.WorkspaceError,
  },

  // -- End of the session ------------------------------------------------------------------------
  {
    id: 'userRefresh.ok', as: 'admin', needs: ['refreshToken'], what: 'exchange the refresh token for new tokens',
    run: (c, x) => c.userRefresh(x.refreshToken),
    shape: S.RefreshTokenResponse,
    verify: (b) => [
      b.token === b.accessToken || 'token/accessToken: expected the same access token in both',
      b.expiresAt > Date.now() || `expiresAt: ${b.expiresAt} is not a future Unix time in ms`,
    ],
    keep: (b, x) => {
      if (b.accessToken) x.signIn(b.accessToken);
      if (b.refreshToken) x.refreshToken = b.refreshToken;
    },
  },
  {
    id: 'getUserProfile.refreshed', as: 'admin', needs: ['refreshToken'], what: 'the refreshed access token works',
    run: (c) => c.getUserProfile(),
    shape: S.UserProfileResponse,
    verify: (b, x) => [b.data && b.data.id === x.f.users.admin.id || 'data.id: not the signed-in user'],
  },
  {
    id: 'userRefresh.invalid', as: 'anon', what: 'an invalid refresh token: 401, sign-in error shape',
    run: (c) => c.userRefresh('not-a-refresh-token'),
    status: 401, shape: S.SignInError,
  },
  {
    id: 'userLogout.ok', as: 'admin', needs: ['refreshToken'], what: 'sign out with the refresh token',
    run: (c, x) => c.userLogout(x.refreshToken),
    shape: S.LogoutResponse,
  },
  {
    id: 'userRefresh.after-logout', as: 'anon', needs: ['refreshToken'], what: 'a signed-out refresh token no longer refreshes',
    run: (c, x) => c.userRefresh(x.refreshToken),
    status: 401, shape: S.SignInError,
  },
];

// ---------------------------------------------------------------------------------------
// Running the cases
// ---------------------------------------------------------------------------------------

const RETRY_DELAY_MS = 250;
const callOf = (testCase) => testCase.id.split('.')[0];
const RETRY_ATTEMPTS = 12;
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function bodyExcerpt(body) {
  const text = body === undefined ? 'no body' : JSON.stringify(body);
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

function requestLine(exchange, baseUrl) {
  if (!exchange) return null;
  const url = exchange.url.startsWith(baseUrl) ? exchange.url.slice(baseUrl.length) : exchange.url;
  return `${exchange.method} ${url}`;
}

async function callOnce(testCase, client, x) {
  lastExchange = null;
  try {
    const body = await testCase.run(client, x);
    return { body, status: lastExchange ? lastExchange.status : null, exchange: lastExchange };
  } catch (error) {
    if (error && typeof error.status === 'number') {
      return { body: error.data, status: error.status, exchange: lastExchange };
    }
    return { thrown: error, exchange: lastExchange };
  }
}

function judge(testCase, outcome, x, strict) {
  const problems = [];
  const expected = [].concat(testCase.status === undefined ? 200 : testCase.status);
  const { body, status, exchange } = outcome;
  if (outcome.thrown) {
    return [`no answer: ${outcome.thrown && outcome.thrown.message ? outcome.thrown.message : String(outcome.thrown)}`];
  }
  const text = JSON.stringify(body === undefined ? null : body);
  for (const secret of x.secrets) {
    if (secret && text.includes(secret) && !(testCase.secretOk && body && body.secret === secret)) {
      problems.push('the answer carries a secret (a provider secret or a repository key secret)');
      break;
    }
  }
  if (!expected.includes(status)) {
    problems.push(`status: expected ${expected.join(' or ')}, got ${status}: ${bodyExcerpt(body)}`);
    return problems;
  }
  if (status >= 400 && !(exchange && /application\/json/.test(exchange.contentType || ''))) {
    problems.push(`content-type: an error body must be application/json, got ${exchange && exchange.contentType}`);
  }
  if (status === 404 && !x.served.has(callOf(testCase))) {
    // A missing route answers 404 too; only a call that has answered otherwise proves it is served.
    problems.push(`status: 404, but ${callOf(testCase)} has not answered anything but 404/405 so far in this run, so this may only mean its route is not served`);
  }
  problems.push(...check(body, testCase.shape, { strict: strict && !testCase.loose }));
  const wantSuccess = testCase.success === undefined && !('success' in testCase) ? status < 300 : testCase.success;
  const declaresSuccess = testCase.shape && !Array.isArray(testCase.shape) && typeof testCase.shape === 'object'
    && 'success' in testCase.shape;
  if (declaresSuccess && wantSuccess !== undefined && body && typeof body === 'object' && body.success !== wantSuccess
      && !problems.some((p) => p.startsWith('$.success'))) {
    problems.push(`$.success: expected ${wantSuccess}, got ${show(body.success)}${body.message ? ` (message: ${show(body.message)})` : ''}`);
  }
  if (testCase.verify && body && typeof body === 'object') {
    try {
      for (const result of [].concat(testCase.verify(body, x)).flat()) {
        if (typeof result === 'string') problems.push(result);
      }
    } catch (error) {
      problems.push(`could not check the content: ${error.message}`);
    }
  }
  return problems;
}

async function runCase(testCase, x, strict) {
  const missing = (testCase.needs || []).filter((name) => x[name] === undefined || x[name] === null);
  if (missing.length) {
    return { status: null, request: null, problems: [`not run: needs ${missing.join(', ')}, which an earlier case did not provide`] };
  }
  const client = x.client(testCase.as);
  let outcome = await callOnce(testCase, client, x);
  for (let attempt = 1; testCase.until && attempt < RETRY_ATTEMPTS; attempt += 1) {
    const ready = outcome.status >= 200 && outcome.status < 300 && outcome.body && (() => {
      try { return testCase.until(outcome.body, x); } catch { return false; }
    })();
    if (ready || !(outcome.status >= 200 && outcome.status < 300)) break;
    await sleep(RETRY_DELAY_MS);
    outcome = await callOnce(testCase, client, x);
  }
  const problems = judge(testCase, outcome, x, strict);
  if (typeof outcome.status === 'number' && outcome.status !== 404 && outcome.status !== 405) x.served.add(callOf(testCase));
  const expected = [].concat(testCase.status === undefined ? 200 : testCase.status);
  if (testCase.keep && expected.includes(outcome.status) && outcome.body && typeof outcome.body === 'object') {
    try {
      testCase.keep(outcome.body, x);
    } catch (error) {
      problems.push(`could not keep its results: ${error.message}`);
    }
  }
  return { status: outcome.status === undefined ? null : outcome.status, request: requestLine(outcome.exchange, x.baseUrl), problems };
}

function makeContext(ApiClient, baseUrl, fixtures) {
  const clients = {};
  const x = {
    f: fixtures,
    baseUrl,
    ws: fixtures.workspace.id,
    tag: `conf-${Date.now().toString(36)}`,
    startedAt: Date.now(),
    llmKey: 'acct-conformance-7731',
    secrets: [fixtures.provider.secret, fixtures.provider.rotatedSecret, fixtures.provider.badSecret].filter(Boolean),
    adminFallback: false,
    /** The calls that have answered with something other than 404/405: their routes exist. */
    served: new Set(),
    /** Use this access token for the admin from now on. */
    signIn(token) {
      clients.admin = new ApiClient(baseUrl);
      clients.admin.setAuthToken(token);
    },
    client(actor) {
      if (actor === 'anon') return new ApiClient(baseUrl);
      if (!clients[actor]) {
        const user = fixtures.users[actor];
        if (!user || !user.token) throw new Error(`the fixtures have no token for ${actor}`);
        if (actor === 'admin') x.adminFallback = true;  // sign-in failed: go on with the seeded token
        clients[actor] = new ApiClient(baseUrl);
        clients[actor].setAuthToken(user.token);
      }
      return clients[actor];
    },
  };
  return x;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const seen = new Set();
  for (const testCase of CASES) {
    if (seen.has(testCase.id)) throw new Error(`duplicate case id ${testCase.id}`);
    seen.add(testCase.id);
  }
  const plan = CASES.map((testCase) => testCase.id);
  if (options.list) {
    process.stdout.write(`${JSON.stringify({ plan })}\n`);
    return 0;
  }
  if (!options.baseUrl || !options.fixtures) {
    process.stderr.write('usage: run.js --base-url URL --fixtures FILE [--strict] | --list\n');
    return 2;
  }
  const { ApiClient } = require(path.join(clientDir(), 'api.cjs'));
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fixtures = JSON.parse(fs.readFileSync(options.fixtures, 'utf8'));
  const x = makeContext(ApiClient, baseUrl, fixtures);
  process.stdout.write(`${JSON.stringify({ plan, strict: options.strict })}\n`);
  let passed = 0;
  for (const testCase of CASES) {
    const result = await runCase(testCase, x, options.strict);
    const ok = result.problems.length === 0;
    if (ok) passed += 1;
    process.stdout.write(`${JSON.stringify({
      case: testCase.id,
      call: callOf(testCase),
      what: testCase.what,
      as: testCase.as,
      ok,
      status: result.status,
      request: result.request,
      problems: result.problems,
    })}\n`);
  }
  process.stdout.write(`${JSON.stringify({
    summary: {
      cases: CASES.length, passed, failed: CASES.length - passed, strict: options.strict,
      adminSignedInWithSeededToken: x.adminFallback,
    },
  })}\n`);
  return passed === CASES.length ? 0 : 1;
}

module.exports = { CASES };

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 2;
  });
}
