package dev.mailintake.auth;

/** Where a connection's access tokens come from (client credentials today; delegated grants later). */
public interface TokenSource {
    /**
     * @param skipCache ask the provider for a new token even if one it issued earlier is still valid (after a 401)
     * @throws TokenException classified as transient, re-authorization required or admin must fix
     */
    AccessToken acquire(boolean skipCache);
}
