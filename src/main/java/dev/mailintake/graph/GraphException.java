package dev.mailintake.graph;

/** Graph answered with an error that retrying will not fix (e.g. 400, 404, 409). */
public class GraphException extends RuntimeException {
    private final int status;
    private final String code;

    public GraphException(int status, String code, String message) {
        super("Graph " + status + (code == null ? "" : " " + code) + ": " + message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
