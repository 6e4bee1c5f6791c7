package io.github.wsrouter.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.Test;

/**
 * The architecture, held by a test: core knows no transport; only an adapter imports its runtime;
 * outside its package an adapter is reached only through its public entry point, and the Jakarta
 * adapter only by name; no public signature outside an internal package names an internal type. Reads the main classes
 * of every published module (core, server, redis, micrometer) from this module's class path.
 */
class LayeringTest {

    private static final JavaClasses LIBRARY = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("io.github.wsrouter")
            .that(DescribedPredicate.describe(
                    "a published module's class",
                    (JavaClass c) -> !c.getPackageName().startsWith("io.github.wsrouter.examples")
                            && !c.getPackageName().startsWith("io.github.wsrouter.benchmarks")
                            && !c.getPackageName().startsWith("io.github.wsrouter.conformance")
                            && !c.getPackageName().startsWith("io.github.wsrouter.bomconsumer")));

    @Test
    void coreImportsNoTransportAndNoOtherModule() {
        noClasses()
                .that()
                .resideInAnyPackage(
                        "io.github.wsrouter",
                        "io.github.wsrouter.internal",
                        "io.github.wsrouter.spi",
                        "io.github.wsrouter.testkit")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.undertow..",
                        "org.xnio..",
                        "jakarta..",
                        "io.github.wsrouter.server..",
                        "io.github.wsrouter.redis..",
                        "io.github.wsrouter.micrometer..",
                        "io.lettuce..",
                        "io.micrometer..")
                .check(LIBRARY);
    }

    @Test
    void onlyTheJakartaAdapterImportsJakartaOrUndertowsServletAndJsr() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.github.wsrouter.server.jakarta..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("jakarta..", "io.undertow.servlet..", "io.undertow.websockets.jsr..")
                .check(LIBRARY);
    }

    @Test
    void outsideItsPackageAnAdapterIsReachedOnlyThroughItsPublicEntryPoint() {
        noClasses()
                .that()
                .resideOutsideOfPackages("io.github.wsrouter.server.undertow..", "io.github.wsrouter.server.jakarta..")
                .should()
                .dependOnClassesThat(DescribedPredicate.describe(
                        "an adapter's class other than WebSocketRoutes and JakartaRoutes (with their builders)",
                        (JavaClass c) -> (c.getPackageName().equals("io.github.wsrouter.server.undertow")
                                        || c.getPackageName().equals("io.github.wsrouter.server.jakarta"))
                                && !c.getName().startsWith("io.github.wsrouter.server.undertow.WebSocketRoutes")
                                && !c.getName().startsWith("io.github.wsrouter.server.jakarta.JakartaRoutes")))
                .check(LIBRARY);
    }

    @Test
    void theJakartaAdapterLoadsOnlyWhenUsed() {
        noClasses()
                .that()
                .resideInAnyPackage("io.github.wsrouter.server", "io.github.wsrouter.server.internal")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.github.wsrouter.server.jakarta..")
                .because("WsServer reaches its transport by name (Transport.create), so that an application "
                        + "without the optional Jakarta dependencies never loads them")
                .check(LIBRARY);
    }

    @Test
    void onlyTheServerImportsUndertow() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.github.wsrouter.server..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.undertow..", "org.xnio..")
                .check(LIBRARY);
    }

    @Test
    void noPublicSignatureOutsideInternalNamesAnInternalType() {
        methods()
                .that()
                .arePublic()
                .and()
                .areDeclaredInClassesThat()
                .arePublic()
                .and()
                .areDeclaredInClassesThat()
                .resideOutsideOfPackages("..internal..")
                .should(new ArchCondition<JavaMethod>("name no type of an internal package") {
                    @Override
                    public void check(JavaMethod method, ConditionEvents events) {
                        java.util.List<JavaClass> named = new java.util.ArrayList<>(method.getRawParameterTypes());
                        named.add(method.getRawReturnType());
                        for (JavaClass type : named) {
                            if (type.getPackageName().contains(".internal")) {
                                events.add(SimpleConditionEvent.violated(
                                        method, method.getFullName() + " names " + type.getName()));
                            }
                        }
                    }
                })
                .check(LIBRARY);
    }
}
