-- The asset states are named in streamcore/assets/states.py (AssetStatus); this CHECK repeats
-- them for the database, and tests/integration/test_asset_states.py checks that the two agree.
-- 0001 also allowed 'uploading', a state nothing ever wrote (an upload is stored before its
-- row exists), so no row can hold it and the narrower check is valid for every release.
ALTER TABLE assets DROP CONSTRAINT assets_status_check;
ALTER TABLE assets ADD CONSTRAINT assets_status_check
    CHECK (status IN ('uploaded', 'processing', 'ready', 'failed'));
