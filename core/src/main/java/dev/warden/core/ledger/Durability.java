package dev.warden.core.ledger;

/**
 * How durable an entry is when {@code append} returns. {@code SYNCED}: fsynced (survives power loss).
 * {@code WRITTEN}: in the file (survives a crash of Warden); an fsync follows within a bounded interval.
 */
public enum Durability { SYNCED, WRITTEN }
