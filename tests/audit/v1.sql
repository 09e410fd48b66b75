-- A state file as schema version 1 left it: the decision log alone.
-- test_audit.c opens it and checks the records survive the migration.
PRAGMA application_id = 1380273476;
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  sensor TEXT NOT NULL,
  trigger TEXT NOT NULL,
  target TEXT,
  decision TEXT NOT NULL,
  reason TEXT,
  record TEXT NOT NULL);
CREATE INDEX decisions_time ON decisions(time);
INSERT INTO decisions VALUES (1, 1764064800000, 'argo-events/oom', 't',
  'Deployment/shop/cart', 'acted', NULL,
  '{"time":"2025-11-25T10:00:00Z","sensor":"argo-events/oom","trigger":"t","target":{"kind":"Deployment","namespace":"shop","name":"cart"},"subject":null,"decision":"acted","signal":{"id":"1"}}');
INSERT INTO decisions VALUES (2, 1764064860000, 'argo-events/oom', 't',
  'Deployment/shop/cart', 'suppressed', 'cooldown',
  '{"time":"2025-11-25T10:01:00Z","sensor":"argo-events/oom","trigger":"t","target":{"kind":"Deployment","namespace":"shop","name":"cart"},"subject":null,"decision":"suppressed","reason":"cooldown","message":"last action 1m0s ago, inside the 10m cooldown","signal":{"id":"2"}}');
PRAGMA user_version = 1;
