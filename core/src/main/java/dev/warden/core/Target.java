package dev.warden.core;

import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;

/** One database as the gate sees it: its engine's classifier (bound to its catalog) and the catalog itself. */
public record Target(String database, String engine, Classifier classifier, Catalog catalog) {
}
