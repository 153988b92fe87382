-- Which of the tables and sequences that custom grants name exist, and as what.
SELECT d.schema, d.name,
       c.relkind IS NOT NULL AS exists,
       CASE WHEN c.relkind = 'S' THEN 'sequences' WHEN c.relkind IS NULL THEN NULL ELSE 'tables' END AS class
  FROM unnest($1::text[], $2::text[]) AS d(schema, name)
  LEFT JOIN pg_namespace n ON n.nspname = d.schema
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = d.name AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S');
