package dev.mailintake.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Which property an environment variable sets. A key's variable is the key in upper case with {@code .} and {@code -}
 * turned into {@code _} ({@code mailintake.mailboxes.scan-in.address} ← {@code MAILINTAKE_MAILBOXES_SCAN_IN_ADDRESS}).
 * Going back is exact for keys that are in the files (any key, also {@code camel.*} and the user's own) and, for
 * {@code mailintake.*} keys absent from the files, by the documented key names: a mailbox or connection name is what
 * stands before a setting declared in {@link ConfigSchema} ({@code SCAN_IN} + {@code ADDRESS}), its {@code _} read as
 * {@code -}. A variable that fits two keys is refused; {@code token-params.*} keys can only be set from the
 * environment when they are in the file.
 */
public final class EnvironmentKeys {
    private static final String ENV_PREFIX = "MAILINTAKE_";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Set<String> globalKeys;
    private final Set<String> mailboxKeys;
    private final Set<String> connectionKeys;

    public EnvironmentKeys() {
        this(ConfigSchema.names(ConfigKey.Scope.GLOBAL), ConfigSchema.names(ConfigKey.Scope.MAILBOX),
                ConfigSchema.names(ConfigKey.Scope.CONNECTION));
    }

    EnvironmentKeys(Set<String> globalKeys, Set<String> mailboxKeys, Set<String> connectionKeys) {
        this.globalKeys = globalKeys;
        this.mailboxKeys = mailboxKeys;
        this.connectionKeys = connectionKeys;
    }

    /** The properties set by the environment (in {@code problems}, what cannot be mapped or is ambiguous). */
    public Map<String, String> properties(Map<String, String> environment, Set<String> fileKeys, List<String> problems) {
        Map<String, String> out = new TreeMap<>();
        Map<String, Set<String>> fileKeysByVariable = new TreeMap<>();
        for (String key : fileKeys) {
            fileKeysByVariable.computeIfAbsent(ConfigSources.environmentName(key), v -> new TreeSet<>()).add(key);
        }
        environment.forEach((variable, value) -> {
            Set<String> keys = new TreeSet<>(fileKeysByVariable.getOrDefault(variable, Set.of()));
            if (variable.startsWith(ENV_PREFIX)) {
                keys.addAll(documentedKeys(variable));
                if (keys.isEmpty() && (variable.startsWith(ENV_PREFIX + "MAILBOXES_")
                        || variable.startsWith(ENV_PREFIX + "CONNECTIONS_"))) {
                    problems.add("environment variable " + variable + ": names no mailintake.* key; a mailbox setting"
                            + " is MAILINTAKE_MAILBOXES_<NAME>_<SETTING> (e.g. MAILINTAKE_MAILBOXES_INVOICES_ADDRESS), a"
                            + " connection setting MAILINTAKE_CONNECTIONS_<NAME>_<SETTING>; token-params.* only in the"
                            + " file");
                    return;
                }
            }
            if (keys.size() > 1) {
                problems.add("environment variable " + variable + ": ambiguous, it could set " + String.join(" or ", keys)
                        + "; set the key in the file (its value may be {{env:" + variable + "}}) instead");
            } else if (keys.size() == 1) {
                out.put(keys.iterator().next(), value);
            }
        });
        return out;
    }

    /** The documented {@code mailintake.*} keys whose variable this is. */
    List<String> documentedKeys(String variable) {
        List<String> keys = new ArrayList<>();
        String rest = variable.substring(ENV_PREFIX.length());
        for (String g : globalKeys) {
            if (rest.equals(ConfigSources.environmentName(g))) {
                keys.add(ConfigLoader.PREFIX + g);
            }
        }
        named(rest, "MAILBOXES_", ConfigLoader.MAILBOXES, mailboxKeys, keys);
        named(rest, "CONNECTIONS_", ConfigLoader.CONNECTIONS, connectionKeys, keys);
        return keys;
    }

    private static void named(String rest, String group, String prefix, Set<String> settings, List<String> keys) {
        if (!rest.startsWith(group)) {
            return;
        }
        String named = rest.substring(group.length());
        for (String setting : settings) {
            String suffix = "_" + ConfigSources.environmentName(setting);
            if (named.endsWith(suffix)) {
                String name = named.substring(0, named.length() - suffix.length()).toLowerCase(Locale.ROOT)
                        .replace('_', '-');
                if (NAME.matcher(name).matches()) {
                    keys.add(prefix + name + "." + setting);
                }
            }
        }
    }
}
