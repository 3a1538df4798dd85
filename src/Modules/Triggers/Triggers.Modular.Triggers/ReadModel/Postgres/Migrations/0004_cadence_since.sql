-- When a schedule trigger's cadence began (its creation, last enabling, or last change of expression or zone; ADR 0015):
-- renaming a trigger or changing its workflow, overlap policy or window does not restart it.
ALTER TABLE triggers.triggers ADD COLUMN cadence_since timestamptz NULL;
UPDATE triggers.triggers SET cadence_since = updated_at WHERE cadence_since IS NULL;
