"""The SQLite schema as it grew: seven numbered scripts, run by Alembic revisions 0001-0007."""

from __future__ import annotations

#: Entry N (1-based) moves a SQLite schema from revision N-1 to N.
#: Append only: never edit a migration that has shipped.
SQLITE_SCRIPTS: list[str] = [
    # 1: the whole initial schema.
    """
    CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT,
        last_name TEXT,
        org_role TEXT NOT NULL DEFAULT 'USER',
        password_hash TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE memberships (
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('READ', 'WRITE', 'ADMIN')),
        PRIMARY KEY (workspace_id, user_id)
    );
    CREATE INDEX memberships_by_user ON memberships(user_id);
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        expires_at INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX tokens_by_user ON tokens(user_id);
    CREATE TABLE ai_llms (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        ai_type TEXT NOT NULL,
        endpoint TEXT,
        key_mask TEXT,
        key_kid TEXT,
        key_blob BLOB,
        secret_kid TEXT,
        secret_blob BLOB,
        api_key_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 1,
        validation_status TEXT NOT NULL DEFAULT 'NOT_VALIDATED'
            CHECK (validation_status IN ('VALID', 'INVALID', 'NOT_VALIDATED')),
        validation_message TEXT,
        validated_at TEXT,
        validated_generation INTEGER,
        UNIQUE (workspace_id, name)
    );
    CREATE INDEX ai_llms_by_created ON ai_llms(created_at);
    CREATE TABLE repos (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (workspace_id, name)
    );
    CREATE TABLE repo_ai_llms (
        repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE RESTRICT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (repo_id, ai_llm_id)
    );
    CREATE INDEX repo_ai_llms_by_llm ON repo_ai_llms(ai_llm_id);
    CREATE TABLE usage_totals (
        ai_llm_id TEXT PRIMARY KEY REFERENCES ai_llms(id) ON DELETE CASCADE,
        api_calls INTEGER NOT NULL DEFAULT 0,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0,
        blocks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE usage_minute (
        minute INTEGER NOT NULL,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE CASCADE,
        repo_id TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL DEFAULT '',
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        active_conversations INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        num_alerts INTEGER NOT NULL DEFAULT 0,
        num_blocks INTEGER NOT NULL DEFAULT 0,
        num_severity_low INTEGER NOT NULL DEFAULT 0,
        num_severity_medium INTEGER NOT NULL DEFAULT 0,
        num_severity_high INTEGER NOT NULL DEFAULT 0,
        latency_ms_total REAL NOT NULL DEFAULT 0,
        llm_type TEXT,
        llm_model TEXT,
        host TEXT,
        PRIMARY KEY (ai_llm_id, minute, repo_id, repo_ai_api_key_id)
    );
    CREATE INDEX usage_minute_by_minute ON usage_minute(minute);
    """,
    # 2: repository AI API keys (only a digest of the secret is stored) and workspace policies.
    """
    CREATE TABLE repo_ai_api_keys (
        id TEXT PRIMARY KEY,
        repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        ai_type TEXT NOT NULL,
        public_key TEXT NOT NULL UNIQUE,
        secret_hash TEXT NOT NULL UNIQUE,
        secret_mask TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (repo_id, name)
    );
    CREATE TABLE policies (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        risk_type TEXT NOT NULL CHECK (risk_type IN ('LOW', 'MEDIUM', 'HIGH')),
        action_type INTEGER NOT NULL CHECK (action_type IN (1, 2)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (workspace_id, name)
    );
    """,
    # 3: a counter that every change of listed data bumps, so answers can be cached safely.
    """
    CREATE TABLE change_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );
    INSERT INTO change_counter (id, value) VALUES (1, 0);
    CREATE TRIGGER workspaces_insert_counts AFTER INSERT ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER workspaces_update_counts AFTER UPDATE ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER workspaces_delete_counts AFTER DELETE ON workspaces
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_insert_counts AFTER INSERT ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_update_counts AFTER UPDATE ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER users_delete_counts AFTER DELETE ON users
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_insert_counts AFTER INSERT ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_update_counts AFTER UPDATE ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER memberships_delete_counts AFTER DELETE ON memberships
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_insert_counts AFTER INSERT ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_update_counts AFTER UPDATE ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER ai_llms_delete_counts AFTER DELETE ON ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_insert_counts AFTER INSERT ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_update_counts AFTER UPDATE ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repos_delete_counts AFTER DELETE ON repos
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_insert_counts AFTER INSERT ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_update_counts AFTER UPDATE ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_llms_delete_counts AFTER DELETE ON repo_ai_llms
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_insert_counts AFTER INSERT ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_update_counts AFTER UPDATE ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_delete_counts AFTER DELETE ON usage_totals
        BEGIN UPDATE change_counter SET value = value + 1; END;
    """,
    # 4: usage has its own counter, so gateway traffic does not invalidate cached lists.
    """
    DROP TRIGGER usage_totals_insert_counts;
    DROP TRIGGER usage_totals_update_counts;
    DROP TRIGGER usage_totals_delete_counts;
    CREATE TABLE usage_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );
    INSERT INTO usage_counter (id, value) VALUES (1, 0);
    CREATE TRIGGER usage_totals_insert_counts AFTER INSERT ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_update_counts AFTER UPDATE ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    CREATE TRIGGER usage_totals_delete_counts AFTER DELETE ON usage_totals
        BEGIN UPDATE usage_counter SET value = value + 1; END;
    """,
    # 5: the v2 contract. Numeric org roles; repositories with their storage fields; keys
    # that are revoked rather than deleted; policies at org, workspace or repository scope
    # with a log-only action; violations and alerts; the models each configuration offers;
    # usage buckets per model, host, user and conversation; the endpoint each secret was
    # given for; and the audit trail.
    """
    ALTER TABLE users ADD COLUMN org_role_code INTEGER NOT NULL DEFAULT 0;
    UPDATE users SET org_role_code = CASE org_role WHEN 'ADMIN' THEN 255 WHEN 'OWNER' THEN 255
        ELSE 0 END;
    ALTER TABLE users DROP COLUMN org_role;
    ALTER TABLE users RENAME COLUMN org_role_code TO org_role;
    UPDATE users SET name = COALESCE(name, ''), last_name = COALESCE(last_name, '');

    ALTER TABLE repos ADD COLUMN storage_type TEXT NOT NULL DEFAULT 'S3';
    ALTER TABLE repos ADD COLUMN mode TEXT NOT NULL DEFAULT 'NORMAL';
    ALTER TABLE repos ADD COLUMN buckets_json TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE repos ADD COLUMN wallet_address TEXT;
    ALTER TABLE repos ADD COLUMN user_id TEXT REFERENCES users(id) ON DELETE SET NULL;

    CREATE TABLE repo_ai_api_keys_v2 (
        id TEXT PRIMARY KEY,
        repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
        user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        ai_type TEXT NOT NULL,
        public_key TEXT NOT NULL UNIQUE,
        secret_hash TEXT UNIQUE,
        secret_mask TEXT NOT NULL,
        created_at TEXT NOT NULL,
        deleted_at TEXT
    );
    INSERT INTO repo_ai_api_keys_v2 (id, repo_id, user_id, name, ai_type, public_key,
        secret_hash, secret_mask, created_at)
        SELECT id, repo_id, user_id, name, ai_type, public_key, secret_hash, secret_mask,
        created_at FROM repo_ai_api_keys;
    DROP TABLE repo_ai_api_keys;
    ALTER TABLE repo_ai_api_keys_v2 RENAME TO repo_ai_api_keys;
    CREATE UNIQUE INDEX repo_ai_api_keys_live_name ON repo_ai_api_keys(repo_id, name)
        WHERE deleted_at IS NULL;
    CREATE TRIGGER repo_ai_api_keys_insert_counts AFTER INSERT ON repo_ai_api_keys
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_api_keys_update_counts AFTER UPDATE ON repo_ai_api_keys
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER repo_ai_api_keys_delete_counts AFTER DELETE ON repo_ai_api_keys
        BEGIN UPDATE change_counter SET value = value + 1; END;

    CREATE TABLE policies_v2 (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
        repo_id TEXT REFERENCES repos(id) ON DELETE CASCADE,
        created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
        last_updated_by TEXT REFERENCES users(id) ON DELETE SET NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        risk_type TEXT NOT NULL CHECK (risk_type IN ('LOW', 'MEDIUM', 'HIGH')),
        action_type INTEGER NOT NULL CHECK (action_type IN (0, 1, 2)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO policies_v2 (id, org_id, workspace_id, repo_id, created_by, last_updated_by,
        name, content, risk_type, action_type, created_at, updated_at)
        SELECT id, org_id, workspace_id, NULL, user_id, user_id, name, content, risk_type,
        action_type, created_at, updated_at FROM policies;
    DROP TABLE policies;
    ALTER TABLE policies_v2 RENAME TO policies;
    CREATE UNIQUE INDEX policies_name_per_scope ON policies(
        org_id, COALESCE(workspace_id, ''), COALESCE(repo_id, ''), name);
    CREATE INDEX policies_by_workspace ON policies(workspace_id);
    CREATE INDEX policies_by_repo ON policies(repo_id);
    CREATE TRIGGER policies_insert_counts AFTER INSERT ON policies
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER policies_update_counts AFTER UPDATE ON policies
        BEGIN UPDATE change_counter SET value = value + 1; END;
    CREATE TRIGGER policies_delete_counts AFTER DELETE ON policies
        BEGIN UPDATE change_counter SET value = value + 1; END;

    CREATE TABLE policy_violations (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        at_ms INTEGER NOT NULL,
        policy_id TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        repo_id TEXT NOT NULL,
        repo_name TEXT NOT NULL,
        user_id TEXT NOT NULL DEFAULT '',
        user_name TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL,
        repo_ai_api_key_name TEXT NOT NULL,
        ai_llm_id TEXT NOT NULL DEFAULT '',
        llm_type TEXT NOT NULL DEFAULT '',
        llm_model TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        severity TEXT,
        block INTEGER NOT NULL DEFAULT 0,
        explanation TEXT NOT NULL,
        conversation_id TEXT
    );
    CREATE INDEX policy_violations_by_time ON policy_violations(org_id, at_ms);
    CREATE INDEX policy_violations_by_policy ON policy_violations(policy_id, at_ms);
    CREATE INDEX policy_violations_by_workspace ON policy_violations(workspace_id, at_ms);
    CREATE TABLE policy_alerts (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        at_ms INTEGER NOT NULL,
        violation_id TEXT,
        policy_id TEXT NOT NULL,
        policy_name TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        repo_id TEXT NOT NULL,
        repo_name TEXT NOT NULL,
        user_id TEXT NOT NULL DEFAULT '',
        user_name TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL,
        repo_ai_api_key_name TEXT NOT NULL,
        ai_llm_id TEXT NOT NULL DEFAULT '',
        llm_type TEXT NOT NULL DEFAULT '',
        llm_model TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL,
        conversation_id TEXT
    );
    CREATE INDEX policy_alerts_by_time ON policy_alerts(org_id, at_ms);
    CREATE INDEX policy_alerts_by_policy ON policy_alerts(policy_id, at_ms);
    CREATE INDEX policy_alerts_by_workspace ON policy_alerts(workspace_id, at_ms);

    CREATE TABLE ai_llm_models (
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created INTEGER,
        llm_type TEXT NOT NULL DEFAULT '',
        generation INTEGER NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (ai_llm_id, model_id)
    );

    DROP INDEX usage_minute_by_minute;
    ALTER TABLE usage_minute RENAME TO usage_minute_v1;
    CREATE TABLE usage_minute (
        minute INTEGER NOT NULL,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE CASCADE,
        repo_id TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL DEFAULT '',
        llm_model TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        user_uuid TEXT NOT NULL DEFAULT '',
        conversation_uuid TEXT NOT NULL DEFAULT '',
        llm_type TEXT NOT NULL DEFAULT '',
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        active_conversations INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        num_alerts INTEGER NOT NULL DEFAULT 0,
        num_blocks INTEGER NOT NULL DEFAULT 0,
        num_severity_low INTEGER NOT NULL DEFAULT 0,
        num_severity_medium INTEGER NOT NULL DEFAULT 0,
        num_severity_high INTEGER NOT NULL DEFAULT 0,
        latency_ms_total REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (ai_llm_id, minute, repo_id, repo_ai_api_key_id, llm_model, host,
                     user_uuid, conversation_uuid)
    );
    INSERT INTO usage_minute (minute, ai_llm_id, repo_id, repo_ai_api_key_id, llm_model, host,
        llm_type, tokens_in, tokens_out, llm_tokens_in, llm_tokens_out, active_conversations,
        api_calls, policy_violations, num_alerts, num_blocks, num_severity_low,
        num_severity_medium, num_severity_high, latency_ms_total)
        SELECT minute, ai_llm_id, repo_id, repo_ai_api_key_id, COALESCE(llm_model, ''),
        COALESCE(host, ''), COALESCE(llm_type, ''), tokens_in, tokens_out, llm_tokens_in,
        llm_tokens_out, active_conversations, api_calls, policy_violations, num_alerts,
        num_blocks, num_severity_low, num_severity_medium, num_severity_high, latency_ms_total
        FROM usage_minute_v1;
    DROP TABLE usage_minute_v1;
    CREATE INDEX usage_minute_by_minute ON usage_minute(minute);

    ALTER TABLE ai_llms ADD COLUMN secret_endpoint TEXT;
    ALTER TABLE ai_llms ADD COLUMN secret_ai_type TEXT;
    UPDATE ai_llms SET secret_endpoint = endpoint, secret_ai_type = ai_type;

    CREATE TABLE system_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL DEFAULT '',
        user_name TEXT NOT NULL DEFAULT '',
        user_email TEXT NOT NULL DEFAULT '',
        workspace_id TEXT,
        context INTEGER NOT NULL,
        context_id TEXT NOT NULL,
        event INTEGER NOT NULL,
        json_data TEXT
    );
    CREATE INDEX system_events_by_time ON system_events(org_id, at);
    CREATE INDEX system_events_by_context ON system_events(context_id);
    CREATE TABLE system_event_reads (
        event_id INTEGER NOT NULL REFERENCES system_events(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        PRIMARY KEY (event_id, user_id)
    );
    """,
    # 6: deleted means gone. Removing or replacing a sealed secret or a key digest marks the
    # transaction, which then folds and truncates the write-ahead log (see db.py).
    """
    CREATE TRIGGER ai_llms_delete_shreds AFTER DELETE ON ai_llms
        BEGIN SELECT flashback_shred(); END;
    CREATE TRIGGER ai_llms_update_shreds AFTER UPDATE OF key_blob, secret_blob ON ai_llms
        BEGIN SELECT flashback_shred(); END;
    CREATE TRIGGER repo_ai_api_keys_delete_shreds AFTER DELETE ON repo_ai_api_keys
        BEGIN SELECT flashback_shred(); END;
    CREATE TRIGGER repo_ai_api_keys_update_shreds AFTER UPDATE OF secret_hash
        ON repo_ai_api_keys BEGIN SELECT flashback_shred(); END;
    """,
    # 7: daily usage kept for ever, apart from the per-minute rows that retention prunes;
    # filled from the minutes already recorded.
    """
    CREATE TABLE usage_daily (
        day INTEGER NOT NULL,
        ai_llm_id TEXT NOT NULL REFERENCES ai_llms(id) ON DELETE CASCADE,
        repo_id TEXT NOT NULL DEFAULT '',
        repo_ai_api_key_id TEXT NOT NULL DEFAULT '',
        llm_model TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        user_uuid TEXT NOT NULL DEFAULT '',
        conversation_uuid TEXT NOT NULL DEFAULT '',
        llm_type TEXT NOT NULL DEFAULT '',
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        llm_tokens_in INTEGER NOT NULL DEFAULT 0,
        llm_tokens_out INTEGER NOT NULL DEFAULT 0,
        active_conversations INTEGER NOT NULL DEFAULT 0,
        api_calls INTEGER NOT NULL DEFAULT 0,
        policy_violations INTEGER NOT NULL DEFAULT 0,
        num_alerts INTEGER NOT NULL DEFAULT 0,
        num_blocks INTEGER NOT NULL DEFAULT 0,
        num_severity_low INTEGER NOT NULL DEFAULT 0,
        num_severity_medium INTEGER NOT NULL DEFAULT 0,
        num_severity_high INTEGER NOT NULL DEFAULT 0,
        latency_ms_total REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (ai_llm_id, day, repo_id, repo_ai_api_key_id, llm_model, host,
                     user_uuid, conversation_uuid)
    );
    CREATE INDEX usage_daily_by_day ON usage_daily(day);
    INSERT INTO usage_daily (day, ai_llm_id, repo_id, repo_ai_api_key_id, llm_model, host,
        user_uuid, conversation_uuid, llm_type, tokens_in, tokens_out, llm_tokens_in,
        llm_tokens_out, active_conversations, api_calls, policy_violations, num_alerts,
        num_blocks, num_severity_low, num_severity_medium, num_severity_high,
        latency_ms_total)
        SELECT (minute / 86400000) * 86400000, ai_llm_id, repo_id, repo_ai_api_key_id,
        llm_model, host, user_uuid, conversation_uuid, MAX(llm_type), SUM(tokens_in),
        SUM(tokens_out), SUM(llm_tokens_in), SUM(llm_tokens_out), MAX(active_conversations),
        SUM(api_calls), SUM(policy_violations), SUM(num_alerts), SUM(num_blocks),
        SUM(num_severity_low), SUM(num_severity_medium), SUM(num_severity_high),
        SUM(latency_ms_total)
        FROM usage_minute GROUP BY (minute / 86400000), ai_llm_id, repo_id,
        repo_ai_api_key_id, llm_model, host, user_uuid, conversation_uuid;
    CREATE INDEX system_events_by_at ON system_events(at);
    CREATE INDEX policy_violations_by_at ON policy_violations(at_ms);
    CREATE INDEX policy_alerts_by_at ON policy_alerts(at_ms);
    """,
]
