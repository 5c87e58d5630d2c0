package dev.mailintake.config;

import com.cronutils.mapper.CronMapper;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.text.ParseException;
import org.quartz.CronExpression;

/**
 * The cron forms users write, as Quartz runs them. Five fields are Unix cron ({@code minute hour day-of-month month
 * day-of-week}, day-of-week 0-7 with 0 and 7 = Sunday, or SUN-SAT): converted by cron-utils, which renumbers the
 * day-of-week for Quartz (1 = Sunday) and puts Quartz's {@code ?} in the day field that is not restricted. Six or seven
 * fields are Quartz's own form (seconds first), taken as they are. Either way the result is checked by Quartz itself,
 * so a cron that would fail when its route starts is refused at start-up.
 */
final class Crons {
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronMapper UNIX_TO_QUARTZ = CronMapper.fromUnixToQuartz();

    private Crons() {
    }

    /** Whether {@code v} has the shape of a cron (5 to 7 fields) rather than e.g. a duration. */
    static boolean looksLikeCron(String v) {
        int fields = fields(v).length;
        return fields >= 5 && fields <= 7;
    }

    /**
     * The Quartz form of a 5-, 6- or 7-field cron.
     *
     * @throws IllegalArgumentException saying what is wrong (the caller adds the key and an example)
     */
    static String toQuartz(String v) {
        String[] fields = fields(v);
        String quartz;
        if (fields.length == 5) {
            if (!fields[2].equals("*") && !fields[2].equals("?") && !fields[4].equals("*") && !fields[4].equals("?")) {
                throw new IllegalArgumentException("'" + v.trim() + "' restricts both the day of the month and the day"
                        + " of the week; Unix cron runs when either matches, which Quartz cannot express: set one of"
                        + " them to *");
            }
            try {
                quartz = UNIX_TO_QUARTZ.map(UNIX.parse(String.join(" ", fields))).asString();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + v.trim() + "' is not a valid Unix cron (minute hour"
                        + " day-of-month month day-of-week; day-of-week 0-7 or SUN-SAT): " + reason(e), e);
            }
            if (quartz.endsWith(" *") && fields(quartz).length == 7) {
                quartz = quartz.substring(0, quartz.length() - 2);
            }
        } else if (fields.length == 6 || fields.length == 7) {
            quartz = String.join(" ", fields);
        } else {
            throw new IllegalArgumentException("'" + v.trim() + "' has " + fields.length + " fields; a cron has 5 (Unix)"
                    + " or 6-7 (Quartz, seconds first)");
        }
        try {
            new CronExpression(quartz).getNextValidTimeAfter(new java.util.Date());
        } catch (ParseException | RuntimeException e) {
            throw new IllegalArgumentException("'" + v.trim() + "'" + (quartz.equals(v.trim()) ? "" : " (Quartz: '"
                    + quartz + "')") + " is not a valid Quartz cron (seconds minutes hours day-of-month month"
                    + " day-of-week [year], '?' in one of the day fields, day-of-week 1-7 = SUN-SAT): "
                    + reason(e), e);
        }
        return quartz;
    }

    private static String reason(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace("Failed to parse cron expression. ", "").strip();
    }

    private static String[] fields(String v) {
        String t = v == null ? "" : v.trim();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }
}
