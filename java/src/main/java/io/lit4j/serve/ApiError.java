package io.lit4j.serve;

import io.lit4j.LitException;

/**
 * An error a request gets back: the HTTP status, a short machine-readable type and a one-line
 * message, sent as {@code {"error": message, "type": type}}. Thrown anywhere under a handler;
 * {@link Endpoints} turns it into the response.
 */
public final class ApiError extends LitException {
    private final int status;
    private final String type;
    private final long retryAfterSeconds;

    private ApiError(int status, String type, String message, long retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400: the body is not what it claims to be (broken JSON, a truncated image). */
    public static ApiError badRequest(String message) {
        return new ApiError(400, "invalid_request", message, 0);
    }

    /** 401: no API key, or one the server does not hold. */
    public static ApiError unauthorized(String message) {
        return new ApiError(401, "unauthorized", message, 0);
    }

    /** 404: no such endpoint. */
    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message, 0);
    }

    /** 405: the endpoint exists, the method does not. */
    public static ApiError methodNotAllowed(String message) {
        return new ApiError(405, "method_not_allowed", message, 0);
    }

    /** 408: the client took longer than the read timeout to send its request. */
    public static ApiError timeout(String message) {
        return new ApiError(408, "request_timeout", message, 0);
    }

    /** 413: a body, text, image or list larger than the server's limits. */
    public static ApiError tooLarge(String message) {
        return new ApiError(413, "too_large", message, 0);
    }

    /** 415: a content type or image format the endpoint does not take. */
    public static ApiError unsupported(String message) {
        return new ApiError(415, "unsupported_media_type", message, 0);
    }

    /** 422: well-formed JSON with a missing field, a wrong type or a value out of range. */
    public static ApiError invalid(String message) {
        return new ApiError(422, "invalid_field", message, 0);
    }

    /** 429: over the rate limit or the queue is full; try again after {@code seconds}. */
    public static ApiError tooMany(String message, long seconds) {
        return new ApiError(429, "overloaded", message, Math.max(1, seconds));
    }

    /** 503: not ready yet, shutting down, or the request's deadline passed before it ran. */
    public static ApiError unavailable(String message) {
        return new ApiError(503, "unavailable", message, 0);
    }

    /** 500: a bug; the message says what failed, never the request's content. */
    public static ApiError internal(String message) {
        return new ApiError(500, "internal", message, 0);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    /** Seconds for a {@code Retry-After} header, 0 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
