'use strict';
// The response types of the Flashback platform's TypeScript client (0.3.13), as data.
//
// Transcribed field for field from the client's type files (types/ai/*.ts,
// types/platform/*.ts, types/storage/storage.ts) and from API.md (wire contract v2), which
// adds what the types cannot say: which `Date` and string fields are ISO 8601 timestamps,
// which counters are decimal strings, that ids are UUIDs, and the error shapes.
//
// The shape language (check.js reads it):
//   'string' 'number' 'integer' 'boolean' 'null'   JSON types ('integer': a whole number)
//   'any'                                           anything, including null
//   'object'                                        any JSON object (opaque content)
//   'uuid'      a UUID string (API.md: "IDs are UUID strings")
//   'iso'       an ISO 8601 UTC timestamp string, e.g. 2024-01-15T10:30:00.000Z
//   'decimal'   a non-negative whole number written as a decimal string, e.g. "42"
//   'ms'        a Unix time in milliseconds (an integer, not seconds)
//   'json'      a string that holds a JSON document
//   ['optional', S]       the field may be absent; when present it matches S (null only if S allows)
//   ['nullable', S]       null or S (the field itself must be present)
//   ['array', S]          an array whose every element matches S
//   ['enum', [v, ...]]    one of these values (compared with ===, so 0 is not '0')
//   ['enum-number', [n, ...]]  the same, for numeric enums
//   ['literal', v]        exactly v
//   ['range', lo, hi]     a number with lo <= n <= hi
//   { field: S, ... }     an object with these fields; a field the type does not declare is
//                         allowed, except in strict mode

const optional = (s) => ['optional', s];
const nullable = (s) => ['nullable', s];
const array = (s) => ['array', s];
const oneOf = (...values) => ['enum', values];

// ---------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------

const AiType = oneOf('OPENAI', 'GOOGLE', 'ANTHROPIC', 'AWS', 'OTHER');
/** OrgRoles: USER 0, BILLING 1, WORKSPACES 2, ADMINISTRATORS 0xfe, OWNER 0xff. */
const OrgRole = ['enum-number', [0, 1, 2, 254, 255]];
const AccessType = oneOf('READ', 'WRITE', 'ADMIN');
const RiskType = oneOf('LOW', 'MEDIUM', 'HIGH');
/** Policy actionType: the client says `number`; the API reference defines 0 log, 1 alert, 2 block. */
const ActionType = ['enum-number', [0, 1, 2]];
const StorageType = oneOf('S3', 'GCS', 'BLOB');
const ModeType = oneOf('NORMAL', 'MIRROR');
/** RepoErrorCodes, wire values (NORMAL_UNIT_CANNOT_DELETE's value is ..._FOLDER_CANNOT_DELETE). */
const RepoErrorCode = oneOf(
  'SUCCESS', 'NOT_FOUND', 'NAME_ALREADY_USED', 'MIRROR_MASTER_UNIT_COUNT_INVALID',
  'MIRROR_MASTER_UNIT_MISSING', 'MIRROR_UNIT_ALREADY_IN_OTHER_REPO',
  'NORMAL_UNIT_FOLDER_ALREADY_USED', 'NORMAL_UNIT_FOLDER_CANNOT_DELETE',
  'NORMAL_UNIT_CANNOT_EDIT_FOLDER', 'QUOTA_EXCEEDED',
);
/** ContextTypeHelper.contextTypes, by index. */
const EVENT_CONTEXTS = [
  'workspace', 'bucket', 'repo', 'user', 'org', 'workspaceuser', 'apikey', 'usersettings',
  'orgsettings', 'flashbacknode', 'orgkey', 'aillm', 'aillmapikey', 'conversation',
];
/** EventTypeHelper.eventTypes, by index. */
const EVENT_TYPES = ['created', 'updated', 'deleted'];

// ---------------------------------------------------------------------------------------
// Error shapes (API.md, "Error shapes the types declare")
// ---------------------------------------------------------------------------------------

/** AI LLM, AI keys, policies, delete calls, and anything else without its own shape. */
const GenericError = { success: ['literal', false], message: optional('string') };
/** WorkspaceErrorResponse: `success` is the literal false and `message` is required. */
const WorkspaceError = { success: ['literal', false], message: 'string' };
/** RefreshTokenErrorResponse / LoginResponse without tokens: login, refresh, logout. */
const SignInError = {
  success: ['literal', false], error_code: optional('string'), message: optional('string'),
};
/** CreateRepoResponse / UpdateRepoResponse when they fail (`error_message`, not `message`). */
const RepoError = {
  success: ['literal', false],
  repoId: 'string',
  error_code: optional(RepoErrorCode),
  error_message: optional('string'),
};
/** UserProfileResponse / UserRoleResponse without `data`. */
const UserError = { success: ['literal', false], message: optional('string'), error: optional('string') };

// ---------------------------------------------------------------------------------------
// AI LLM configurations (types/ai/aillm.ts)
// ---------------------------------------------------------------------------------------

const AiLlm = {
  id: 'uuid',
  orgId: 'uuid',
  workspaceId: 'uuid',
  userId: 'uuid',
  name: 'string',
  aiType: AiType,
  endpoint: 'string',
  key: nullable('string'),
  apiKeyId: optional('uuid'),
  createdAt: 'iso',
  repos: optional(array({ id: 'uuid', name: 'string', createdAt: 'iso' })),
};

const GetAiLlmsResponse = { success: 'boolean', aiLlms: array(AiLlm) };
const CreateAiLlmResponse = { success: 'boolean', aiLlmId: 'uuid', message: optional('string') };
const UpdateAiLlmResponse = { success: 'boolean', aiLlmId: 'uuid', message: optional('string') };
const DeleteAiLlmResponse = { success: 'boolean', message: optional('string') };
const ValidateAiLlmResponse = { success: 'boolean', message: 'string' };
const AiLlmStats = {
  aiLlmId: 'uuid',
  totalApiCalls: 'decimal',
  totalTokensIn: 'decimal',
  totalTokensOut: 'decimal',
  totalLlmTokensIn: 'decimal',
  totalLlmTokensOut: 'decimal',
  totalPolicyViolations: 'decimal',
  totalAlerts: 'decimal',
  totalBlocks: 'decimal',
};
const AiLlmStatsResponse = { success: 'boolean', stats: array(AiLlmStats) };
const RepoAiLlmInfo = { aiLlmId: optional('uuid'), aiLlm: optional(AiLlm) };

// AI models (POST /ai/models)
const AiModel = {
  id: 'string',
  name: 'string',
  created: optional('number'),
  aiType: AiType,
  llmType: 'string',
  llmProvider: 'string',
};
const GetAiModelsResponse = { success: 'boolean', models: array(AiModel) };

// ---------------------------------------------------------------------------------------
// Repository AI API keys (types/ai/aiapikey.ts)
// ---------------------------------------------------------------------------------------

const RepoAiApiKey = {
  id: 'uuid',
  name: 'string',
  repoId: 'uuid',
  key: nullable('string'),
  aiType: AiType,
  createdAt: 'iso',
  deletedAt: nullable('iso'),
};
const CreateRepoAiApiKeyResponse = {
  success: 'boolean', id: 'uuid', key: 'string', secret: 'string', message: optional('string'),
};
const GetRepoAiApiKeysResponse = { success: 'boolean', apiKeys: array(RepoAiApiKey) };
const UpdateRepoAiApiKeyResponse = { success: 'boolean', message: 'string' };
const DeleteRepoAiApiKeyResponse = { success: 'boolean', message: 'string' };

// ---------------------------------------------------------------------------------------
// Repositories (types/storage/storage.ts; storage parts are opaque)
// ---------------------------------------------------------------------------------------

const RepoBucketInfo = {
  folder: 'string', master: 'boolean', bucketId: optional('string'), bucket: optional('object'),
};
const StorageApiKey = {
  id: 'string',
  name: 'string',
  accessType: AccessType,
  key: 'string',
  secret: optional({ key: 'string', iv: 'string', authTag: 'string', message: 'string' }),
  createdAt: 'iso',
};
/** StorageRepoWithBuckets: the element of GetReposResponse.repos. */
const Repo = {
  id: 'uuid',
  name: 'string',
  storageType: StorageType,
  mode: ModeType,
  workspaceId: 'uuid',
  buckets: array(RepoBucketInfo),
  aiLlms: optional(array(RepoAiLlmInfo)),
  apiKeys: optional(array(StorageApiKey)),
  aiApiKeys: optional(array(RepoAiApiKey)),
  createdAt: 'iso',
  disabled: optional('boolean'),
  walletAddress: optional('string'),
};
const CreateRepoResponse = {
  success: 'boolean',
  error_code: optional(RepoErrorCode),
  error_message: optional('string'),
  repoId: 'uuid',
};
const UpdateRepoResponse = CreateRepoResponse;
const GetReposResponse = { success: 'boolean', repos: array(Repo) };
/** What the client's getStorageRepo builds from `GET /repo?repoId=` (repos[0]). */
const GetRepoResult = { success: 'boolean', repo: Repo };
/** ActionResponse. */
const DeleteRepoResponse = { success: 'boolean', message: optional('string') };

// ---------------------------------------------------------------------------------------
// Policies (types/ai/policy.ts)
// ---------------------------------------------------------------------------------------

const PolicyPerson = { id: 'uuid', name: 'string', lastName: 'string', email: 'string' };
const Policy = {
  id: 'uuid',
  orgId: 'uuid',
  name: 'string',
  content: 'string',
  riskType: RiskType,
  actionType: ActionType,
  createdBy: PolicyPerson,
  createdAt: 'iso',
  lastUpdatedBy: PolicyPerson,
  lastUpdatedAt: 'iso',
  workspaceId: nullable('uuid'),
  repoId: nullable('uuid'),
  workspace: optional(nullable({ id: 'uuid', name: 'string' })),
  repo: optional(nullable({ id: 'uuid', name: 'string' })),
};
const PolicyResponse = { success: 'boolean', policy: Policy };
const PoliciesResponse = { success: 'boolean', policies: array(Policy) };
const DeletePolicyResponse = { success: 'boolean', message: optional('string') };

const Violation = {
  id: 'uuid',
  policyId: 'uuid',
  policyName: 'string',
  timestamp: 'iso',
  explanation: 'string',
  conversationId: nullable('string'),
  repoId: 'uuid',
  repoName: 'string',
  userId: 'string',
  userName: 'string',
  repoAiApiKeyId: 'uuid',
  repoAiApiKeyName: 'string',
  severity: nullable(RiskType),
  block: 'boolean',
  llmType: 'string',
  llmModel: 'string',
  host: 'string',
};
const Alert = {
  id: 'uuid',
  policyId: 'uuid',
  policyName: 'string',
  timestamp: 'iso',
  message: 'string',
  conversationId: nullable('string'),
  repoId: 'uuid',
  repoName: 'string',
  userId: 'string',
  userName: 'string',
  repoAiApiKeyId: 'uuid',
  repoAiApiKeyName: 'string',
  llmType: 'string',
  llmModel: 'string',
  host: 'string',
};
const ViolationsResponse = {
  success: 'boolean', violations: array(Violation), total: 'integer', skip: 'integer', take: 'integer',
};
const AlertsResponse = {
  success: 'boolean', alerts: array(Alert), total: 'integer', skip: 'integer', take: 'integer',
};

const PolicyValidationResult = {
  policy_uuid: 'string',
  score: ['range', 0, 100],
  advice: 'string',
  issues: array({ type: 'string', description: 'string', suggestion: 'string' }),
  severity: oneOf('none', 'low', 'medium', 'high'),
};
/** No `success`: validate and recommend declare none. */
const PolicyValidationResponse = { results: array(PolicyValidationResult) };
const PolicyRecommendationResponse = {
  level: ['enum-number', [0, 1, 2]],
  uuid: 'string',
  tokens_in: 'integer',
  tokens_out: 'integer',
  recommended_policies: array({
    content: 'string',
    riskType: oneOf('low', 'medium', 'high'),
    alertType: oneOf('log', 'alert', 'block'),
  }),
};

// ---------------------------------------------------------------------------------------
// Workspaces (types/platform/workspace.ts)
// ---------------------------------------------------------------------------------------

const WorkspaceUser = {
  userId: 'uuid',
  role: AccessType,
  user: {
    id: 'uuid', name: 'string', lastName: 'string', email: 'string', orgRole: nullable(OrgRole),
  },
};
const WorkspaceBrief = { id: 'uuid', name: 'string', orgId: 'uuid' };
const WorkspaceWithUsers = { ...WorkspaceBrief, users: array(WorkspaceUser) };
const CreateWorkspaceResponse = { success: 'boolean', workspace: WorkspaceBrief };
const GetWorkspacesResponse = { success: 'boolean', workspaces: array(WorkspaceWithUsers) };
const GetWorkspaceResponse = { success: 'boolean', workspace: WorkspaceWithUsers };
const UpdateWorkspaceResponse = { success: 'boolean', workspace: WorkspaceBrief };
const DeleteWorkspaceResponse = { success: 'boolean' };
const AddUserToWorkspaceResponse = { success: 'boolean' };
const UpdateWorkspaceUserRoleResponse = { success: 'boolean' };
const RemoveUserFromWorkspaceResponse = { success: 'boolean' };

// ---------------------------------------------------------------------------------------
// Sign-in and users (types/platform/auth.ts, roles.ts)
// ---------------------------------------------------------------------------------------

/** LoginResponse (= RegisterResponse): every field but `success` is optional. */
const LoginResponse = {
  success: 'boolean',
  accessToken: optional('string'),
  refreshToken: optional('string'),
  tokenId: optional('string'),
  expiresAt: optional('ms'),
  user: optional({
    id: 'uuid', email: 'string', name: 'string', orgId: optional('uuid'), orgRole: optional(OrgRole),
  }),
  error_code: optional('string'),
  message: optional('string'),
  verificationTokenId: optional('string'),
};
const RefreshTokenResponse = {
  success: 'boolean', token: 'string', accessToken: 'string', refreshToken: 'string', expiresAt: 'ms',
};
const LogoutResponse = { success: 'boolean', error_code: optional('string'), message: optional('string') };
const UserProfileResponse = {
  success: 'boolean',
  data: optional({
    id: 'uuid',
    name: 'string',
    lastName: 'string',
    email: 'string',
    orgId: nullable('uuid'),
    orgRole: nullable(OrgRole),
    orgRoleDescription: 'string',
    orgRoles: array(OrgRole),
    validated: 'boolean',
    mfaRequired: 'boolean',
    isBusiness: 'boolean',
  }),
  message: optional('string'),
  error: optional('string'),
};
const UserRoleResponse = {
  success: 'boolean',
  data: optional({
    userId: 'uuid', orgRole: OrgRole, orgRoleDescription: 'string', orgRoles: array(OrgRole),
  }),
  message: optional('string'),
  error: optional('string'),
};

// ---------------------------------------------------------------------------------------
// System events (types/platform/systemevent.ts)
// ---------------------------------------------------------------------------------------

const SystemEvent = {
  id: 'integer',
  timestamp: 'iso',
  contextId: 'string',
  context: ['enum', EVENT_CONTEXTS],
  event: ['enum', EVENT_TYPES],
  orgId: 'uuid',
  userId: 'uuid',
  userName: 'string',
  userEmail: 'string',
  workspaceId: nullable('uuid'),
  jsonData: nullable('json'),
  showUnread: 'boolean',
};
/** No `success`. */
const SystemEventQueryResponse = {
  events: array(SystemEvent), total: 'integer', skip: 'integer', take: 'integer',
};
const SystemEventReadStatusResponse = { success: 'boolean' };

// ---------------------------------------------------------------------------------------
// AI usage time series (types/ai/stats.ts)
// ---------------------------------------------------------------------------------------

const AiStatsRow = {
  timestamp: 'ms',
  repoId: 'uuid',
  aiLlmId: 'uuid',
  repoAiApiKeyId: 'uuid',
  // bigint | string: JSON has no bigint, so decimal strings.
  tokensIn: 'decimal',
  tokensOut: 'decimal',
  llmTokensIn: 'decimal',
  llmTokensOut: 'decimal',
  activeConversations: 'integer',
  apiCalls: 'integer',
  policyViolations: 'integer',
  numAlerts: 'integer',
  numBlocks: 'integer',
  numSeverityLow: 'integer',
  numSeverityMedium: 'integer',
  numSeverityHigh: 'integer',
  latency_ms: 'number',
  llmType: 'string',
  llmModel: 'string',
  host: 'string',
  userUuid: 'string',
  conversationUuid: 'string',
};
const AiStatsResponse = { success: 'boolean', data: array(AiStatsRow), message: optional('string') };
const AiStatsError = { success: ['literal', false], data: array(AiStatsRow), message: optional('string') };

module.exports = {
  EVENT_CONTEXTS,
  EVENT_TYPES,
  // enums
  AiType, OrgRole, AccessType, RiskType, ActionType, StorageType, ModeType, RepoErrorCode,
  // errors
  GenericError, WorkspaceError, SignInError, RepoError, UserError, AiStatsError,
  // AI LLM
  AiLlm, GetAiLlmsResponse, CreateAiLlmResponse, UpdateAiLlmResponse, DeleteAiLlmResponse,
  ValidateAiLlmResponse, AiLlmStats, AiLlmStatsResponse, RepoAiLlmInfo, AiModel,
  GetAiModelsResponse,
  // repo AI keys
  RepoAiApiKey, CreateRepoAiApiKeyResponse, GetRepoAiApiKeysResponse,
  UpdateRepoAiApiKeyResponse, DeleteRepoAiApiKeyResponse,
  // repos
  RepoBucketInfo, StorageApiKey, Repo, CreateRepoResponse, UpdateRepoResponse, GetReposResponse,
  GetRepoResult, DeleteRepoResponse,
  // policies
  PolicyPerson, Policy, PolicyResponse, PoliciesResponse, DeletePolicyResponse, Violation, Alert,
  ViolationsResponse, AlertsResponse, PolicyValidationResult, PolicyValidationResponse,
  PolicyRecommendationResponse,
  // workspaces
  WorkspaceUser, WorkspaceBrief, WorkspaceWithUsers, CreateWorkspaceResponse,
  GetWorkspacesResponse, GetWorkspaceResponse, UpdateWorkspaceResponse, DeleteWorkspaceResponse,
  AddUserToWorkspaceResponse, UpdateWorkspaceUserRoleResponse, RemoveUserFromWorkspaceResponse,
  // sign-in
  LoginResponse, RefreshTokenResponse, LogoutResponse, UserProfileResponse, UserRoleResponse,
  // system events
  SystemEvent, SystemEventQueryResponse, SystemEventReadStatusResponse,
  // time series
  AiStatsRow, AiStatsResponse,
};
