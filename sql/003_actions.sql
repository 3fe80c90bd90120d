-- 003_actions.sql: actions and their follow-up (anchoring). An action is
-- agreed in one session (step 3b) and lives on after it: its status changes
-- between sessions, and a later session of the same team reviews it.
--
-- An action is identified by the session that agreed it and the aid the
-- session engine gave it there: (session_id, aid).
--
-- Applied once by scripts/migrate.sh inside one transaction (no BEGIN/COMMIT).

SET LOCAL ROLE lwk_owner;
SET LOCAL search_path = lwk;

-- organisation_id and team_id repeat the session's so actions can be listed
-- per team and filtered by row-level security without a join; the composite
-- foreign key guarantees they match the session. A session is never deleted
-- while it has actions (no cascade): actions outlive the session.
CREATE TABLE actions (
    organisation_id bigint NOT NULL,
    team_id         bigint NOT NULL,
    session_id      bigint NOT NULL,
    aid             int NOT NULL CHECK (aid >= 0),
    description     text NOT NULL CHECK (char_length(description) <= 10000),  -- what
    owner           text CHECK (char_length(owner) <= 200),                  -- who
    role            text CHECK (char_length(role) <= 200),
    context         text CHECK (char_length(context) <= 10000),              -- where
    deadline        date,                                                    -- by when
    feedback_moment text CHECK (char_length(feedback_moment) <= 10000),      -- how it is reported back
    resources       text CHECK (char_length(resources) <= 10000),
    item            smallint CHECK (item >= 0),  -- the capability it serves, if one
    tid             int,                         -- the theme it comes from, if one
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, aid),
    FOREIGN KEY (session_id, organisation_id, team_id)
        REFERENCES sessions (id, organisation_id, team_id),
    FOREIGN KEY (session_id, tid) REFERENCES themes (session_id, tid)
);
CREATE INDEX actions_team_status_deadline_idx ON actions (team_id, status, deadline);
CREATE INDEX actions_organisation_status_deadline_idx ON actions (organisation_id, status, deadline);

-- Every status change, append-only. session_id is the session in which the
-- change was made (NULL: made between sessions); when set, seq is the event
-- that made it, and (session_id, seq) makes a repeated insert a no-op with
-- ON CONFLICT (session_id, seq) DO NOTHING.
CREATE TABLE action_status_history (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_session_id bigint NOT NULL,
    aid               int NOT NULL,
    status            text NOT NULL
                      CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    note              text CHECK (char_length(note) <= 10000),
    changed_at        timestamptz NOT NULL DEFAULT now(),
    session_id        bigint REFERENCES sessions (id),
    seq               bigint CHECK (seq >= 1),
    FOREIGN KEY (action_session_id, aid) REFERENCES actions (session_id, aid) ON DELETE CASCADE,
    UNIQUE (session_id, seq),
    CHECK (seq IS NULL OR session_id IS NOT NULL)
);
CREATE INDEX action_status_history_action_idx
    ON action_status_history (action_session_id, aid, changed_at);
CREATE TRIGGER action_status_history_append_only
    BEFORE UPDATE ON action_status_history
    FOR EACH ROW EXECUTE FUNCTION reject_update();

-- A later session looking back at an action: did it have effect (1..5)?
-- One review per action per reviewing session, edited in place.
CREATE TABLE action_reviews (
    action_session_id bigint NOT NULL,
    aid               int NOT NULL,
    session_id        bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    effect            smallint CHECK (effect BETWEEN 1 AND 5),
    note              text CHECK (char_length(note) <= 10000),
    reviewed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (action_session_id, aid, session_id),
    FOREIGN KEY (action_session_id, aid) REFERENCES actions (session_id, aid) ON DELETE CASCADE,
    CHECK (session_id <> action_session_id)
);
CREATE INDEX action_reviews_session_idx ON action_reviews (session_id);

GRANT SELECT, INSERT, UPDATE ON actions, action_reviews TO lwk_daemon;
GRANT SELECT, INSERT ON action_status_history TO lwk_daemon;
