package dev.warden.core.approval;

/**
 * Something happened to a request: {@code requested}, {@code approved} (one approver said yes; the request's status
 * says whether that was enough), {@code denied}, {@code expired}, {@code used}. Delivered to subscribers (the
 * console's live queue, webhooks) after the ledger entry and the stored request are written.
 */
public record ApprovalEvent(String type, ApprovalRequest request, String actor) {}
