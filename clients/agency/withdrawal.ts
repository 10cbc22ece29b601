// The import's guard against a file that would empty the watchlist, as a
// constant of its own: the CLI shows it in its help without loading the import.

/** Share of the stored watchlist one import may withdraw unless told otherwise (percent). */
export const DEFAULT_MAX_WITHDRAWAL_PERCENT = 20;
