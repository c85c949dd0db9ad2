-- 0002: apps as first-class objects, domain claims, instance settings and roles.

ALTER TABLE apps
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- A claim on a host name: exact (api.example.com) or with {name} labels
-- ({tenant}.example.com). shape erases the parameter names; two claims with
-- the same shape would match the same hosts equally well.
CREATE TABLE domains (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    pattern     text NOT NULL,
    shape       text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_app_id ON domains (app_id);

-- Instance-wide settings, one row.
CREATE TABLE settings (
    id                    boolean PRIMARY KEY DEFAULT true CHECK (id),
    default_app_fallback  boolean NOT NULL DEFAULT true,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings DEFAULT VALUES;

-- Instance roles: an owner manages users and the instance, an admin manages
-- apps, a member has only the app roles granted to them. Users made before
-- roles existed were made by whoever runs the board: they are owners.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'admin', 'member'));
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';

CREATE TABLE app_roles (
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, app_id)
);
CREATE INDEX app_roles_app_id ON app_roles (app_id);
