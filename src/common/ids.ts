/** Database ids are UUIDs: anything else cannot name a row, so it is NOT_FOUND before any query. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
