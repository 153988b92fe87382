-- The relations that GRANT ... ON ALL TABLES or ON ALL SEQUENCES IN SCHEMA would act on,
-- as quoted qualified names, for every schema a plan names, in one pass over pg_class
-- read before the plan's first GRANT: after it, this transaction's new row versions of
-- pg_class make every pass slower. ALL TABLES is tables, partitioned tables, views,
-- materialized views and foreign tables, as in PostgreSQL's objectsInSchemaToOids.
-- One row per schema and class, its names joined by the server: at 100,000 relations a
-- row per relation costs the client more (decoding, garbage) than the pass itself.
-- $1: the schemas.
SELECT n.nspname AS schema,
       CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END AS class,
       string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', ') AS names
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY ($1::text[])
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
 GROUP BY 1, 2;
