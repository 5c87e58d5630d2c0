package dev.mailintake.config;

import java.util.List;

/** Every configuration problem found at start-up, reported at once. */
public class ConfigurationException extends RuntimeException {
    private final List<String> problems;

    public ConfigurationException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        StringBuilder sb = new StringBuilder("Mail Intake cannot start: ")
                .append(problems.size()).append(problems.size() == 1 ? " configuration problem" : " configuration problems");
        for (String p : problems) {
            sb.append(System.lineSeparator()).append("  - ").append(p);
        }
        return sb.toString();
    }
}
