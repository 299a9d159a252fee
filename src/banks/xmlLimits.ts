// Bounds on the bank messages we read, whole or streamed: each stops a hostile or broken file
// from exhausting memory or the parser's recursion.

/** A pushed notification or a status report larger than this is not a message we accept
 *  (25,000 credits of a busy bank's batch notice take about 24 MB). */
export const xmlBodyBytesMax = 32 * 1024 * 1024;
/** Entries (Ntry, and TxDtls within them) in one camt.054 notification: one section's rush at
 *  a large platform, with room; a notice above the inline bound is booked by jobs. */
export const notificationEntriesMax = 25_000;
/** Entries in one streamed statement (camt.053 or cn-h2h): a year of a very busy account. */
export const statementEntriesMax = 1_000_000;
/** Elements in a document read whole (25,000 entries of ~40 elements each, with room). */
export const xmlElementsMax = 1_250_000;
/** ISO 20022 messages nest about 12 deep; anything far deeper is an attack on the recursion. */
export const xmlDepthMax = 64;
/** One leaf's text (remittance and AddtlInf are the longest, at most a few hundred chars). */
export const xmlTextCharsMax = 64 * 1024;
/** Streamed input is fed to the parser in slices of this size, which bounds how many parsed
 *  elements wait for a slow consumer at any moment. */
export const xmlStreamSliceBytes = 64 * 1024;
