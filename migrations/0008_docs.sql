-- 0008: scripts' document collections (the SDK's docs module). A document
-- is a JSON object in one collection of one app, under a time-ordered id
-- (UUIDv7, so id order is insertion order) and a version from one
-- sequence, so that a version an ifVersion could hold never comes back.
-- A collection exists while it holds documents.
CREATE SEQUENCE docs_versions;

CREATE TABLE docs_documents (
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    collection  text COLLATE "C" NOT NULL CHECK (octet_length(collection) BETWEEN 1 AND 256),
    id          uuid NOT NULL,
    doc         jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    version     bigint NOT NULL DEFAULT nextval('docs_versions'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, collection, id)
);

-- The indexes scripts asked for with ensureIndex. Each is a real index on
-- docs_documents over the paths' values ((doc #> path), …), partial on its
-- app and collection, named from a hash (never from the script's text);
-- this table says what each name stands for, so that a unique violation
-- can name its paths.
CREATE TABLE docs_indexes (
    app_id      uuid NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    collection  text COLLATE "C" NOT NULL,
    name        text NOT NULL UNIQUE,
    paths       jsonb NOT NULL,
    is_unique   boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, collection, name)
);

-- docs_create_index creates the index idx_name on the paths (a JSON array
-- of arrays of path segments) of one app's collection. DDL takes no
-- parameters: the statement is built here, every value of the caller
-- quoted by format's %I and %L, so that nothing a script sends is ever
-- part of SQL text.
CREATE FUNCTION docs_create_index(idx_name text, app uuid, coll text, paths jsonb, is_unique boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    exprs text := '';
    p jsonb;
BEGIN
    FOR p IN SELECT value FROM jsonb_array_elements(paths) LOOP
        IF exprs <> '' THEN
            exprs := exprs || ', ';
        END IF;
        exprs := exprs || format('(doc #> %L::text[])',
            (SELECT array_agg(s ORDER BY n) FROM jsonb_array_elements_text(p) WITH ORDINALITY AS t(s, n)));
    END LOOP;
    EXECUTE format('CREATE %s INDEX IF NOT EXISTS %I ON docs_documents (%s) WHERE app_id = %L::uuid AND collection = %L',
        CASE WHEN is_unique THEN 'UNIQUE' ELSE '' END, idx_name, exprs, app, coll);
END
$$;

-- An index goes with its record: when an app (so its docs_indexes rows)
-- is deleted, its indexes are dropped, not left for every write to keep.
CREATE FUNCTION docs_drop_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP INDEX IF EXISTS %I', OLD.name);
    RETURN OLD;
END
$$;

CREATE TRIGGER docs_indexes_drop AFTER DELETE ON docs_indexes
    FOR EACH ROW EXECUTE FUNCTION docs_drop_index();
