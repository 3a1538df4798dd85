-- When a schedule trigger's cadence began (its creation, last enabling, or last change of expression or zone; ADR 0015):
-- renaming a trigger or changing its workflow, overlap policy or window does not restart it.
ALTER TABLE triggers_triggers ADD COLUMN cadence_since TEXT NULL;
UPDATE triggers_triggers SET cadence_since = updated_at WHERE cadence_since IS NULL;
