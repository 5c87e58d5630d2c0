package dev.mailintake.ops;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Gives the heap an idle instance does not use back to the system. G1 keeps what it once grew to (the start of 500
 * mailboxes left ~1 GB resident with nothing to do); with these settings a G1 cycle runs after a minute without one and
 * shrinks the heap to 20 % free. All three are manageable flags, set only where the command line left them at their
 * defaults, and only with G1 (the JVM's default collector).
 */
public final class IdleHeap {
    /** Flag and value, in an order each step of which is valid (the minimum free ratio must not exceed the maximum). */
    static final List<List<String>> SETTINGS = List.of(
            List.of("G1PeriodicGCInterval", "60000"),
            List.of("MinHeapFreeRatio", "5"),
            List.of("MaxHeapFreeRatio", "20"));

    private IdleHeap() {
    }

    /** @return the flags that were set (none when not on G1 or when any of them was given on the command line) */
    public static List<String> apply() {
        boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(g -> g.getName().startsWith("G1"));
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (!g1 || vm == null || SETTINGS.stream().anyMatch(s -> vm.getVMOption(s.get(0)).getOrigin()
                != VMOption.Origin.DEFAULT)) {
            return List.of();
        }
        List<String> set = new java.util.ArrayList<>();
        for (List<String> s : SETTINGS) {
            try {
                vm.setVMOption(s.get(0), s.get(1));
                set.add(s.get(0) + "=" + s.get(1));
            } catch (RuntimeException notWritable) {
                // a JVM where the flag is not manageable: it keeps its own heap sizing; nothing to start without
                break;
            }
        }
        return set;
    }
}
