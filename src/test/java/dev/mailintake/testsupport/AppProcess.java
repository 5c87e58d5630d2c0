package dev.mailintake.testsupport;

import dev.mailintake.MailIntakeApplication;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The real application in a JVM of its own, as {@code java … dev.mailintake.MailIntakeApplication} runs it: the main
 * class path only (so the shipped logback.xml applies, not the tests'), no {@code MAILINTAKE_*} variable of the
 * developer's shell, its output (stdout and stderr) kept line by line. Several of them make a cluster; {@code kill -9},
 * {@code SIGSTOP} and {@code SIGCONT} are real signals.
 */
public final class AppProcess implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private AppProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process was killed: its output ends here
            }
        }, "app-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code MailIntakeApplication args…} in {@code workDir} with the extra environment {@code env}. */
    public static AppProcess start(Path workDir, Map<String, String> env, String... args) {
        return start(workDir, env, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), args);
    }

    /** The same with these JVM options instead of the tests' ({@code -Xmx256m -XX:TieredStopAtLevel=1}). */
    public static AppProcess start(Path workDir, Map<String, String> env, List<String> jvmOptions, String... args) {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(p -> !p.endsWith("test-classes")).collect(Collectors.joining(java.io.File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath, MailIntakeApplication.class.getName()));
        cmd.addAll(List.of(args));
        return launch(workDir, env, cmd);
    }

    /**
     * The shipped fat jar as the README launches it: {@code java [jvmOptions] -jar jar args…} (the build's jar, e.g.
     * with {@code -XX:SharedArchiveFile=target/mail-intake.jsa}), no extra environment.
     */
    public static AppProcess startJar(Path workDir, Path jar, List<String> jvmOptions, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return launch(workDir, Map.of(), cmd);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static AppProcess launch(Path workDir, Map<String, String> env, List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("MAILINTAKE_") || k.startsWith("CAMEL_"));
        pb.environment().putAll(env);
        try {
            return new AppProcess(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The project's application.properties plus {@code settings}, written to {@code file}. */
    public static Path configFile(Path file, Map<String, String> settings) {
        return configFile(file, Path.of("application.properties"), settings);
    }

    /** The properties file {@code base} (e.g. an earlier release's application.properties) plus {@code settings}. */
    public static Path configFile(Path file, Path base, Map<String, String> settings) {
        try {
            Files.writeString(file, Files.readString(base, StandardCharsets.UTF_8) + "\n"
                    + settings.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue())
                    .collect(Collectors.joining("\n")) + "\n", StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines so far (a copy: the process goes on writing). */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    public long count(String text) {
        return lines.stream().filter(l -> l.contains(text)).count();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for the end and returns the exit code. */
    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException("still running after " + seconds + " s");
        }
        return process.exitValue();
    }

    /** {@code kill -9}: no shutdown hook, no clean stop. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** {@code SIGSTOP}: frozen as by a long GC pause or a partition; {@link #resume} goes on where it stopped. */
    public void pause() {
        signal("STOP");
    }

    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            int rc = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
            if (rc != 0) {
                throw new IllegalStateException("kill -" + name + " failed: " + rc);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A clean stop (SIGTERM), forcibly after 30 s. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
