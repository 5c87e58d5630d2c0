package dev.mailintake.testsupport;

import java.util.ArrayList;
import java.util.List;

/** Reads an IMAP UID set as a client wrote it ({@code 3,5:9,12}). */
public final class UidSets {
    private UidSets() {
    }

    public static List<Long> uids(String set) {
        List<Long> out = new ArrayList<>();
        for (String part : set.split(",")) {
            String[] range = part.split(":");
            long from = Long.parseLong(range[0]);
            long to = range.length == 2 ? Long.parseLong(range[1]) : from;
            for (long u = from; u <= to; u++) {
                out.add(u);
            }
        }
        return out;
    }

    public static long count(String set) {
        return uids(set).size();
    }
}
