package dev.mailintake.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One {@code mailintake.*} key as {@link ConfigSchema} declares it: the single source of its name, type, range, default
 * and help text, for the checks ({@link Settings}), "did you mean", the environment variables ({@link EnvironmentKeys})
 * and the reference tables in docs/configuration.md.
 *
 * @param scope       global ({@code mailintake.<name>}), per connection or per mailbox
 * @param name        the setting below the scope's prefix; a family ends in {@code .<name>} ({@code token-params.<name>})
 * @param type        what the value is, with its range
 * @param dflt        the value used when the key is absent or blank; null when there is none or it is computed
 * @param shownDefault the default as users read it (Markdown)
 * @param help        one line (Markdown) saying what the key does
 */
public record ConfigKey(Scope scope, String name, Type type, String dflt, String shownDefault, String help) {
    /** Where a key lives. */
    public enum Scope {
        GLOBAL("mailintake."), CONNECTION("mailintake.connections.<name>."), MAILBOX("mailintake.mailboxes.<name>.");

        private final String prefix;

        Scope(String prefix) {
            this.prefix = prefix;
        }

        /** The key's prefix as users read it. */
        public String prefix() {
            return prefix;
        }

        /** "connection", "mailbox" (in messages). */
        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final String FAMILY = ".<name>";

    /** Whether this declares a family of keys ({@code token-params.<name>}). */
    public boolean family() {
        return name.endsWith(FAMILY);
    }

    /** For a family, what its keys start with ({@code token-params.}). */
    public String familyPrefix() {
        return name.substring(0, name.length() - FAMILY.length() + 1);
    }

    /** What a value is; {@link #range()} is how the docs show it. */
    public sealed interface Type {
        String range();
    }

    /** Free text; {@code format} says what it looks like (may be empty). */
    public record Text(String format) implements Type {
        public String range() {
            return format;
        }
    }

    /** A whole number in {@code min..max}; {@code note} explains the range in the message (may be empty). */
    public record Int(int min, int max, String note) implements Type {
        public String range() {
            return "`" + min + ".." + max + "`";
        }
    }

    public record Bool() implements Type {
        public String range() {
            return "`true`/`false`";
        }
    }

    /** {@code 30s}, {@code 5m}, {@code PT30S}: at least {@code min}. */
    public record Dur(Duration min) implements Type {
        public String range() {
            return min.isZero() ? "duration" : "duration ≥ " + Units.format(min);
        }
    }

    /** {@code 25MB}: between {@code min} and {@code max} (sizes as written, empty for none). */
    public record Size(String min, String max, String note) implements Type {
        public String range() {
            return min.isEmpty() ? "size" : "`" + min + ".." + max + "`";
        }
    }

    /** One of {@code values} (compared without case; {@code -} and {@code _} alike). */
    public record Choice(List<String> values) implements Type {
        /** The values of an enum, lower case with {@code -}. */
        public static Choice of(Class<? extends Enum<?>> type) {
            return new Choice(Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
        }

        public String range() {
            return String.join(", ", values.stream().map(v -> "`" + v + "`").toList());
        }
    }

    /** An absolute URL, {@code https} only or {@code http(s)}. */
    public record Url(boolean httpsOnly) implements Type {
        public String range() {
            return httpsOnly ? "`https://` URL" : "`http(s)://` URL";
        }
    }

    /** A file or directory ({@code what}). */
    public record FilePath(String what) implements Type {
        public String range() {
            return what;
        }
    }

    /** {@code yyyy-MM-dd}. */
    public record Date() implements Type {
        public String range() {
            return "date `yyyy-MM-dd`";
        }
    }

    /** 5-field Unix or 6/7-field Quartz cron. */
    public record Cron() implements Type {
        public String range() {
            return "cron";
        }
    }

    /** A value never printed, logged or shown. */
    public record SecretText() implements Type {
        public String range() {
            return "secret";
        }
    }

    /** Separated by commas or spaces. */
    public record ListOf(String what) implements Type {
        public String range() {
            return "list of " + what;
        }
    }
}
