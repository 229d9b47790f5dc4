package dev.warden.core.engine;

/** One static check of a deployment, such as "the upstream role is not a superuser". */
public interface DoctorCheck {
    String name();

    Result run();

    record Result(Status status, String message) {}

    enum Status { OK, WARN, FAIL }
}
