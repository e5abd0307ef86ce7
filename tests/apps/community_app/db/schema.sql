-- The app's table and a few readings: load it once into the database the app connects to
-- (docs/your-app.md, "A database beside the stack", runs it with psql).
CREATE TABLE IF NOT EXISTS readings (
    station_id text NOT NULL,
    taken_at timestamp NOT NULL,
    temperature_c double precision NOT NULL,
    PRIMARY KEY (station_id, taken_at)
);
INSERT INTO readings (station_id, taken_at, temperature_c) VALUES
    ('LIS', '2026-12-07 09:00', 14.5),
    ('OSL', '2026-12-07 09:00', -3.2),
    ('QUI', '2026-12-07 09:00', 11.8)
ON CONFLICT DO NOTHING;
